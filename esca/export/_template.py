"""The self-contained HTML page of the pyLDAvis export: its template and inlining rules.

Everything the page needs (LDAvis's CSS, d3, LDAvis's JavaScript, the data) is inlined
between ``<style>`` or ``<script>`` tags, so the page works offline.
"""

import html
import re

# LDAvis keeps its state in the URL with history.replaceState(location.origin + ...); a page
# opened from a file has the origin "null", so Chromium refuses that URL (SecurityError on
# every click). Keep only the "#topic=..." fragment for file pages; it works everywhere.
HISTORY_SHIM = """\
(function () {
  if (window.location.origin !== "null" || !window.history) { return; }
  ["pushState", "replaceState"].forEach(function (name) {
    var original = window.history[name].bind(window.history);
    window.history[name] = function (state, title, url) {
      var hash = typeof url === "string" ? url.indexOf("#") : -1;
      return original(state, title, hash >= 0 ? url.slice(hash) : url);
    };
  });
})();"""

PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<style>
{css}
</style>
<style>
body {{ font-family: sans-serif; margin: 12px; background: white; }}
p.esca-note {{ font-size: 13px; color: #444; margin: 0 0 8px 0; }}
</style>
</head>
<body>
<h1 style="font-size: 18px; margin: 0 0 4px 0;">{title}</h1>
<p class="esca-note">{note}</p>
<div id="{visid}" style="background-color: white;"></div>
<script>
{shim}
</script>
<script>
{d3}
</script>
<script>
{ldavis}
</script>
<script>
var {visid}_data = {data};
new LDAvis("#{visid}", {visid}_data);
</script>
</body>
</html>
"""


def inline_script(code):
    """JavaScript made safe to sit between ``<script>`` and ``</script>``."""
    return re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE).replace("<!--", "<\\!--")


def inline_style(css):
    """CSS made safe to sit between ``<style>`` and ``</style>``."""
    return re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE)


def inline_json(text):
    """JSON text as a JavaScript literal inside ``<script>``: ``<``, ``>``, ``&``, U+2028/9 escaped.

    These characters can only occur inside JSON strings, where the ``\\uXXXX``
    escapes mean the same characters.
    """
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def render_page(title, note, css, d3, ldavis, data):
    """The complete page: :data:`PAGE` filled in, each part escaped for where it sits.

    Parameters
    ----------
    title, note : str
        Plain text for the page title/heading and the line under it (HTML-escaped).
    css, d3, ldavis : str
        LDAvis's stylesheet, d3's and LDAvis's JavaScript.
    data : str
        The JSON of :meth:`pyLDAvis.PreparedData.to_json`.

    Returns
    -------
    str
    """
    return PAGE.format(
        title=html.escape(title), note=html.escape(note), visid="ldavis_esca",
        css=inline_style(css), shim=HISTORY_SHIM, d3=inline_script(d3),
        ldavis=inline_script(ldavis), data=inline_json(data))
