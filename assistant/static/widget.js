/* sesam widget: <script src="https://HOST/widget.js" defer></script> adds a chat box that asks the sesam
   service it was loaded from. Optional attributes on the script tag:
     data-lang="sv|en"          language of every text the widget shows (default: the page's <html lang>, else sv)
     data-target="#id"          where to put the box (default: where the script tag is)
     data-title, data-placeholder, data-disclaimer (empty: none), data-accent (a CSS colour)
     data-contact="text", data-contact-url="https://…"   where to turn when the documents do not answer
     data-max-chars="1000"      the service's max_question_chars, if it was changed
   Citizens only ever see the widget's own texts (assistant/i18n.py); the service's messages go to the console. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL(script.src, location.href).origin;
  var attr = function (name) { return script.getAttribute("data-" + name); };
  var lang = (attr("lang") || document.documentElement.lang || "sv").slice(0, 2).toLowerCase() === "en" ? "en" : "sv";
  // Written in by the service from assistant/i18n.py (GET /widget.js), the one table of interface texts.
  var TEXTS = /*sesam:texts*/null/*end*/;
  var T = TEXTS[lang];
  // "{name}" in a text replaced by values[name]; a function, so a title holding "$&" or "$`" is taken literally
  var fill = function (text, values) {
    return text.replace(/\{(\w+)\}/g, function (whole, name) { return name in values ? String(values[name]) : whole; });
  };
  var maxChars = parseInt(attr("max-chars"), 10) || 1000;
  var accent = attr("accent");
  if (!accent || !(window.CSS && CSS.supports("color", accent))) accent = "#0b5cad";

  var css = [
    ":host{all:initial;display:block;font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1b1b1b;--accent:" + accent + "}",
    ".box{border:1px solid #c8ccd2;border-radius:10px;padding:14px;background:#fff;max-width:640px;box-sizing:border-box}",
    "header{display:flex;align-items:baseline;gap:8px;justify-content:space-between}",
    "h2{font-size:1.1em;margin:0 0 4px}",
    ".disclaimer{font-size:.85em;color:#4a4f57;margin:0 0 8px}",
    ".log{max-height:60vh;overflow-y:auto}",
    ".turns{list-style:none;padding:0;margin:0}",
    ".turn{margin:0 0 14px}",
    ".who{font-size:.8em;font-weight:600;color:#4a4f57;margin:8px 0 0}",
    ".q{margin:0;padding:6px 10px;background:#f3f5f8;border-radius:6px;white-space:pre-wrap;overflow-wrap:anywhere}",
    ".a{white-space:pre-wrap;margin:0;min-height:1.5em;overflow-wrap:anywhere}",
    ".abstained .a{border-left:4px solid #b26b00;background:#fff7e6;padding:8px}",
    ".contact{margin:6px 0 0;font-size:.95em}",
    ".ref{color:var(--accent);font-weight:600;text-decoration:none}",
    ".ref:hover{text-decoration:underline}",
    "form{display:flex;gap:8px;flex-wrap:wrap;margin-top:8px}",
    "label{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}",
    "input{flex:1 1 220px;min-width:0;padding:10px;font:inherit;border:1px solid #8a9099;border-radius:6px}",
    "button{font:inherit;padding:10px 16px;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}",
    "button.new{padding:4px 10px;background:#fff;color:var(--accent);font-size:.9em}",
    "button:focus-visible,input:focus-visible,a:focus-visible,.cite:focus-visible{outline:3px solid #f0a000;outline-offset:2px}",
    "button[disabled]{opacity:.6;cursor:wait}",
    ".error{color:#a10000;margin-top:10px}",
    "ol.cites{list-style:none;padding-left:0;margin:4px 0 0}",
    ".cite{background:none;border:0;color:var(--accent);text-decoration:underline;padding:2px 0;text-align:left;cursor:pointer;font-size:.95em}",
    ".open{font-size:.9em;margin-left:6px;color:var(--accent);display:inline-block;white-space:nowrap}",
    ".passage{margin:6px 0 8px;padding:8px;background:#f3f5f8;border-radius:6px;white-space:pre-wrap;font-size:.95em}",
    "mark{background:#ffe58a}",
    "h3{font-size:.95em;margin:8px 0 0}",
    "@media (max-width:480px){.box{padding:10px;border-radius:0;border-left:0;border-right:0}form button{flex:1 1 100%}}"
  ].join("\n");

  var host = document.createElement("div");
  host.className = "sesam-widget";
  var target = attr("target") && document.querySelector(attr("target"));
  (target || script.parentNode).insertBefore(host, target ? null : script);
  host.lang = lang;  // the widget's texts are read in its language, not the page's
  var root = host.attachShadow({ mode: "open" });
  // The conversation is a list (each turn an item) inside a log region; the turn being answered is aria-busy.
  root.innerHTML = "<section class=\"box\"><header><h2></h2>" +
    "<button type=\"button\" class=\"new\" hidden></button></header><p class=\"disclaimer\"></p>" +
    "<div class=\"log\" role=\"log\"><ol class=\"turns\"></ol></div><div class=\"error\" role=\"alert\" hidden></div>" +
    "<form><label for=\"q\"></label><input id=\"q\" name=\"q\" autocomplete=\"off\" required>" +
    "<button type=\"submit\" class=\"ask\"></button></form></section>";
  // A constructable stylesheet: a host page's CSP `style-src` blocks an inline <style>, not this (older browsers
  // without adoptedStyleSheets get the <style>).
  if ("adoptedStyleSheets" in root && window.CSSStyleSheet && "replaceSync" in CSSStyleSheet.prototype) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } else {
    var style = document.createElement("style");
    style.textContent = css;
    root.prepend(style);
  }
  var $ = function (sel) { return root.querySelector(sel); };
  var el = function (tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  };
  var title = attr("title") || T.title;
  $("section").setAttribute("aria-label", title);
  $("h2").textContent = title;
  var disclaimer = attr("disclaimer");
  if (disclaimer === "") $(".disclaimer").hidden = true;
  else $(".disclaimer").textContent = disclaimer || T.disclaimer;
  $("label").textContent = T.label;
  $("input").placeholder = attr("placeholder") || T.placeholder;
  $("input").maxLength = maxChars;
  $("button.ask").textContent = T.ask;
  $("button.new").textContent = T.newQuestion;
  var sessionId = "new", turns = 0;  // the service gives the conversation's id with each answer; "new" starts one
  var pending = null;  // the AbortController of the question being answered

  function newSession() { sessionId = "new"; }

  // Document addresses: the publisher's own `url` (corpus/sources.toml) if it has one, else the service's copy.
  var documents = fetch(base + "/v1/documents").then(function (r) { return r.ok ? r.json() : { documents: [] }; })
    .then(function (body) {
      var byId = {};
      (body.documents || []).forEach(function (d) { byId[d.doc_id] = d; });
      return byId;
    }).catch(function () { return {}; });

  // Where a passage is: "s. 8" (the printed page label if the PDF has one), or for a Word or web document, which has
  // no pages, its section: "avsnitt ”Startbidrag”" (as the answer's own text says it).
  function where(c) {
    if (c.kind === "docx" || c.kind === "html") return c.section ? T.section + " ”" + c.section + "”" : T.beginning;
    return T.page + " " + (c.page_label || c.page);
  }

  function documentHref(c, byId) {
    var d = byId[c.doc_id];
    var page = c.kind === "docx" || c.kind === "html" ? "" : "#page=" + c.page;
    if (d && d.url) return /\.pdf($|[?#])/i.test(d.url) ? d.url.split("#")[0] + page : d.url;
    return base + "/v1/documents/" + c.doc_id.split("/").map(encodeURIComponent).join("/") + "/file" + page;
  }

  function showError(message) { var e = $(".error"); e.textContent = message; e.hidden = false; }

  function renderSources(turn, citations, abstained) {
    var box = turn.querySelector(".sources");
    box.textContent = "";
    if (!citations.length) return;
    var list = el("ol", "cites");
    citations.forEach(function (c) {
      var item = el("li");
      item.id = "sesam-" + turn.dataset.n + "-" + c.n;
      var label = c.title + ", " + where(c);
      item.dataset.name = fill(T.source, { n: c.n, title: label });
      var btn = el("button", "cite", "[" + c.n + "] " + label);
      btn.type = "button";
      btn.setAttribute("aria-expanded", "false");
      var link = el("a", "open", T.openDocument + " (" + where(c) + ")");
      link.target = "_blank";
      link.rel = "noopener";
      link.href = documentHref(c, {});
      documents.then(function (byId) { link.href = documentHref(c, byId); });
      var passage = el("div", "passage");
      passage.hidden = true;
      var at = c.quote ? c.text.indexOf(c.quote) : -1;
      if (at >= 0) {
        passage.append(c.text.slice(0, at), el("mark", null, c.quote), c.text.slice(at + c.quote.length));
      } else {
        passage.textContent = c.text;
      }
      btn.addEventListener("click", function () { toggle(btn, passage, passage.hidden); });
      item.append(btn, link, passage);
      list.append(item);
    });
    box.append(el("h3", null, abstained ? T.related : T.sources), list);
  }

  function toggle(btn, passage, open) {
    passage.hidden = !open;
    btn.setAttribute("aria-expanded", String(open));
  }

  // The answer's [n] markers become links to source n of the same answer, which they open.
  function renderAnswer(turn, text) {
    var a = turn.querySelector(".a");
    a.textContent = "";
    var known = {};
    turn.querySelectorAll("ol.cites > li").forEach(function (li) { known[li.id.split("-").pop()] = li; });
    text.split(/(\[\d+\])/).forEach(function (part) {
      var m = /^\[(\d+)\]$/.exec(part);
      var li = m && known[m[1]];
      if (!li) { if (part) a.append(part); return; }
      var ref = el("a", "ref", part);
      ref.href = "#" + li.id;
      ref.setAttribute("aria-label", li.dataset.name);  // "Källa 1: <title>, s. 2", not just "[1]"
      ref.addEventListener("click", function (event) {
        event.preventDefault();
        var btn = li.querySelector(".cite");
        toggle(btn, li.querySelector(".passage"), true);
        btn.focus();
      });
      a.append(ref);
    });
  }

  function addTurn(question) {
    var turn = el("li", "turn");
    turn.dataset.n = String(++turns);
    turn.setAttribute("aria-busy", "true");  // announced once, whole, when the answer is complete
    turn.append(el("p", "who", T.you), el("p", "q", question), el("p", "who", T.assistant), el("div", "a", T.busy),
                el("div", "sources"));
    $(".turns").append(turn);
    $("button.new").hidden = false;
    return turn;
  }

  function abstain(turn) {
    turn.classList.add("abstained");
    var text = attr("contact"), url = attr("contact-url");
    if (!text && !url) return;
    var p = el("p", "contact", T.contactLead);
    if (url) {
      var link = el("a", null, text || T.contact);
      link.href = url;
      p.append(link);
    } else {
      p.append(text);
    }
    turn.querySelector(".a").after(p);
  }

  // One event of the stream; says "done" or "error" when the stream has ended.
  function handle(turn, kind, data) {
    var a = turn.querySelector(".a"), end = null;
    if (kind === "citations") {
      a.textContent = "";
      if (data.lang) a.lang = data.lang;  // an English answer in a Swedish widget is read as English
      renderSources(turn, data.citations || [], data.abstained);
      if (data.abstained && !data.reply) abstain(turn);  // "Hej!" gets a friendly line, not "not in the documents"
    } else if (kind === "delta") {
      if (a.lastChild && a.lastChild.nodeType === Node.TEXT_NODE) a.lastChild.appendData(data.text);
      else a.append(data.text);
    } else if (kind === "done") {
      if (data.answer.session_id) sessionId = data.answer.session_id;  // a follow-up continues this conversation
      renderAnswer(turn, data.answer.answer);
      end = "done";
    } else if (kind === "error") {
      console.info("sesam: the answer broke off:", data.detail);
      end = "error";
    }
    var log = $(".log");
    log.scrollTop = log.scrollHeight;
    return end;
  }

  // A stream that ended without its answer (an `error` event, a cut connection, a page that is not the stream):
  // the partial answer goes, and the question stays in the field to be sent again.
  function brokeOff(turn, why) {
    console.info("sesam: the answer broke off (" + why + ").");
    if (turn.isConnected) { turn.remove(); turns--; }
    $("button.new").hidden = !turns;
    showError(T.broken);
    return false;
  }

  function errorFor(res, question) {
    if (res.status === 429) {
      var wait = parseInt(res.headers.get("Retry-After"), 10);
      if (!wait) console.warn("sesam: Retry-After is not readable here; the service should expose it (CORS).");
      return wait === 1 ? T.limitOne : wait > 1 ? fill(T.limit, { s: wait }) : T.limitSoon;
    }
    if (res.status === 413 || (res.status === 422 && question.length > maxChars)) return fill(T.tooLong, { n: maxChars });
    if (res.status === 422) return T.invalid;
    if (res.status === 503) return T.notReady;
    return T.failed;
  }

  // Why a request failed without an HTTP answer: a service that answers a no-cors request is up but refuses
  // this page's origin (not in cors_origins); one that does not answer at all is down or unreachable.
  function explainNetworkFailure(error) {
    fetch(base + "/v1/health", { mode: "no-cors", cache: "no-store" }).then(function () {
      console.warn("sesam: the service at " + base + " answers, but not to pages from " + location.origin +
        ". Add \"" + location.origin + "\" to cors_origins in the service's settings (SESAM_CORS_ORIGINS or sesam.toml).");
    }, function () {
      console.warn("sesam: the service at " + base + " cannot be reached (" + error + "). Is `sesam serve` running?");
    });
  }

  async function ask(question) {
    var button = $("button.ask");
    button.disabled = true;
    $(".error").hidden = true;
    var turn = addTurn(question);
    var controller = new AbortController(), res = null;
    pending = controller;
    var aborted = function () { return controller.signal.aborted; };
    try {
      try {
        res = await fetch(base + "/v1/ask/stream", {
          method: "POST", headers: { "Content-Type": "application/json" }, signal: controller.signal,
          body: JSON.stringify({ question: question, session_id: sessionId })
        });
      } catch (e) {
        if (aborted()) return null;
        if (turn.isConnected) { turn.remove(); turns--; }
        $("button.new").hidden = !turns;
        showError(T.network);
        explainNetworkFailure(e);
        return false;
      }
      if (!res.ok) {
        var body = {};
        try { body = await res.json(); } catch (e) { /* not JSON */ }
        if (aborted()) return null;
        console.info("sesam: the service answered " + res.status + ":", body.detail || "");
        if (turn.isConnected) { turn.remove(); turns--; }
        $("button.new").hidden = !turns;
        showError(errorFor(res, question));
        return false;
      }
      if (!/^text\/event-stream/.test(res.headers.get("Content-Type") || "")) {
        controller.abort();
        return brokeOff(turn, "the answer is " + res.headers.get("Content-Type") + ", not an event stream");
      }
      var reader = res.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "", end = null;
      try {
        while (!end) {
          var chunk = await reader.read();
          if (aborted()) return null;  // "Ny fråga": nothing of this answer reaches the new conversation
          if (chunk.done) break;
          buffer += decoder.decode(chunk.value, { stream: true });
          var parts = buffer.split("\n\n");
          buffer = parts.pop();
          for (var i = 0; i < parts.length && !end; i++) {
            var kind = "message", data = "";
            parts[i].split("\n").forEach(function (line) {
              if (line.indexOf("event: ") === 0) kind = line.slice(7);
              else if (line.indexOf("data: ") === 0) data += line.slice(6);
            });
            if (data) end = handle(turn, kind, JSON.parse(data));
          }
        }
      } catch (e) {
        if (aborted()) return null;
        return brokeOff(turn, e);  // cut mid-stream or garbled: the service was reached, so no CORS advice
      }
      if (end !== "done") {
        controller.abort();
        return brokeOff(turn, end === "error" ? "the service reported an error" : "the stream ended without an answer");
      }
      return true;
    } finally {
      turn.removeAttribute("aria-busy");
      if (pending === controller) { pending = null; button.disabled = false; }
    }
  }

  $("form").addEventListener("submit", async function (event) {
    event.preventDefault();
    var input = $("input");
    var q = input.value.trim();
    if (!q) return;
    if (q.length > maxChars) { showError(fill(T.tooLong, { n: maxChars })); return; }
    input.value = "";
    var ok = await ask(q);
    if (ok === null) return;  // abandoned by "Ny fråga"
    if (!ok && !input.value) input.value = q;  // a failed question stays, to be sent again
    input.focus();
  });

  $("button.new").addEventListener("click", function () {
    if (pending) { pending.abort(); pending = null; }  // the service stops the answer nobody will see
    $("button.ask").disabled = false;
    newSession();
    turns = 0;
    $(".turns").textContent = "";
    $(".error").hidden = true;
    $("button.new").hidden = true;
    $("input").value = "";
    $("input").focus();
  });
})();
