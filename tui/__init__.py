"""sesam's terminal client (Textual) and the `sesam` command-line composition root."""
