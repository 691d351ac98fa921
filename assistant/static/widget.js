/* sesam widget: <script src="https://HOST/widget.js" defer></script> adds a chat box that asks the sesam
   service it was loaded from. Optional attributes on the script tag: data-lang="sv|en", data-target="#id". */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL(script.src, location.href).origin;
  var lang = (script.dataset.lang || document.documentElement.lang || "sv").slice(0, 2) === "en" ? "en" : "sv";
  var T = {
    sv: { title: "Fråga om social ekonomi", label: "Din fråga", ask: "Fråga", placeholder: "Till exempel: Vad är ett arbetsintegrerande socialt företag?",
          sources: "Källor", related: "Möjligen relaterade avsnitt", abstained: "Dokumenten besvarar inte frågan", page: "s.",
          busy: "Söker i dokumenten …", network: "Tjänsten går inte att nå just nu. Kontrollera anslutningen och försök igen.",
          limit: "För många frågor på kort tid. Vänta {s} sekunder och försök igen.", tooLong: "Frågan är för lång. ",
          failed: "Något gick fel. Försök igen om en stund.", close: "Stäng" },
    en: { title: "Ask about the social economy", label: "Your question", ask: "Ask", placeholder: "For example: What is a work-integration social enterprise?",
          sources: "Sources", related: "Possibly related passages", abstained: "The documents do not answer this question", page: "p.",
          busy: "Searching the documents …", network: "The service cannot be reached right now. Check the connection and try again.",
          limit: "Too many questions in a short time. Wait {s} seconds and try again.", tooLong: "The question is too long. ",
          failed: "Something went wrong. Please try again in a moment.", close: "Close" }
  }[lang];

  var css = [
    ":host{all:initial;display:block;font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1b1b1b}",
    ".box{border:1px solid #c8ccd2;border-radius:10px;padding:14px;background:#fff;max-width:640px}",
    "h2{font-size:1.1em;margin:0 0 8px}",
    "form{display:flex;gap:8px;flex-wrap:wrap}",
    "label{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}",
    "input{flex:1 1 220px;min-width:0;padding:10px;font:inherit;border:1px solid #8a9099;border-radius:6px}",
    "button{font:inherit;padding:10px 16px;border-radius:6px;border:1px solid #0b5cad;background:#0b5cad;color:#fff;cursor:pointer}",
    "button:focus-visible,input:focus-visible,.cite:focus-visible{outline:3px solid #f0a000;outline-offset:2px}",
    "button[disabled]{opacity:.6;cursor:wait}",
    ".answer{white-space:pre-wrap;margin:12px 0 0;min-height:1.5em}",
    ".abstained .answer{border-left:4px solid #b26b00;background:#fff7e6;padding:8px}",
    ".error{color:#a10000;margin-top:10px}",
    "ol{list-style:none;padding-left:0;margin:8px 0 0}",
    ".cite{background:none;border:0;color:#0b5cad;text-decoration:underline;padding:2px 0;text-align:left;cursor:pointer}",
    ".passage{margin:6px 0 8px;padding:8px;background:#f3f5f8;border-radius:6px;white-space:pre-wrap;font-size:.95em}",
    "mark{background:#ffe58a}",
    "h3{font-size:1em;margin:12px 0 0}",
    "@media (max-width:480px){.box{padding:10px;border-radius:0;border-left:0;border-right:0}button{flex:1 1 100%}}"
  ].join("\n");

  var host = document.createElement("div");
  host.className = "sesam-widget";
  var target = script.dataset.target && document.querySelector(script.dataset.target);
  (target || script.parentNode).insertBefore(host, target ? null : script);
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML = '<style>' + css + '</style><section class="box" aria-label="sesam"><h2></h2>' +
    '<form><label for="q"></label><input id="q" name="q" autocomplete="off" required maxlength="1000">' +
    '<button type="submit"></button></form><div class="error" role="alert" hidden></div>' +
    '<div class="answer" aria-live="polite"></div><div class="sources"></div></section>';
  var $ = function (sel) { return root.querySelector(sel); };
  $("h2").textContent = T.title;
  $("label").textContent = T.label;
  $("input").placeholder = T.placeholder;
  $("button").textContent = T.ask;
  var sessionId = "w-" + Math.random().toString(36).slice(2);

  function showError(message) { var e = $(".error"); e.textContent = message; e.hidden = false; }

  function renderSources(citations, abstained) {
    var box = $(".sources");
    box.textContent = "";
    if (!citations.length) return;
    var h = document.createElement("h3");
    h.textContent = abstained ? T.related : T.sources;
    var list = document.createElement("ol");
    citations.forEach(function (c) {
      var item = document.createElement("li");
      var btn = document.createElement("button");
      btn.type = "button";
      btn.className = "cite";
      btn.setAttribute("aria-expanded", "false");
      btn.textContent = "[" + c.n + "] " + c.title + ", " + T.page + " " + c.page;
      var passage = document.createElement("div");
      passage.className = "passage";
      passage.hidden = true;
      var at = c.quote ? c.text.indexOf(c.quote) : -1;
      if (at >= 0) {
        passage.append(c.text.slice(0, at));
        var mark = document.createElement("mark");
        mark.textContent = c.quote;
        passage.append(mark, c.text.slice(at + c.quote.length));
      } else {
        passage.textContent = c.text;
      }
      passage.append("\n— " + c.file + ", " + T.page + " " + c.page);
      btn.addEventListener("click", function () {
        passage.hidden = !passage.hidden;
        btn.setAttribute("aria-expanded", String(!passage.hidden));
      });
      item.append(btn, passage);
      list.append(item);
    });
    box.append(h, list);
  }

  function handle(kind, data) {
    if (kind === "citations") {
      $(".box").classList.toggle("abstained", !!data.abstained);
      $(".answer").textContent = "";
      renderSources(data.citations || [], data.abstained);
    } else if (kind === "delta") {
      $(".answer").textContent += data.text;
    } else if (kind === "done") {
      $(".answer").textContent = data.answer.answer;
    } else if (kind === "error") {
      showError(data.detail || T.failed);
    }
  }

  async function ask(question) {
    var button = $("button");
    button.disabled = true;
    $(".error").hidden = true;
    $(".answer").textContent = T.busy;
    $(".sources").textContent = "";
    try {
      var res = await fetch(base + "/v1/ask/stream", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ question: question, session_id: sessionId, lang: null })
      });
      if (!res.ok) {
        var body = {};
        try { body = await res.json(); } catch (e) { /* not JSON */ }
        $(".answer").textContent = "";
        if (res.status === 429) showError(T.limit.replace("{s}", res.headers.get("Retry-After") || "30"));
        else if (res.status === 422) showError(T.tooLong + (body.detail || ""));
        else showError(body.detail || T.failed);
        return;
      }
      var reader = res.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      for (;;) {
        var chunk = await reader.read();
        if (chunk.done) break;
        buffer += decoder.decode(chunk.value, { stream: true });
        var parts = buffer.split("\n\n");
        buffer = parts.pop();
        parts.forEach(function (block) {
          var kind = "message", data = "";
          block.split("\n").forEach(function (line) {
            if (line.indexOf("event: ") === 0) kind = line.slice(7);
            else if (line.indexOf("data: ") === 0) data += line.slice(6);
          });
          if (data) handle(kind, JSON.parse(data));
        });
      }
    } catch (e) {
      $(".answer").textContent = "";
      showError(T.network);
    } finally {
      button.disabled = false;
    }
  }

  $("form").addEventListener("submit", function (event) {
    event.preventDefault();
    var q = $("input").value.trim();
    if (q) ask(q);
  });
})();
