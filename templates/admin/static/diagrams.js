// diagrams.js draws the Mermaid diagrams of the diagrams page (the only page that loads Mermaid). The
// diagram sources are in <pre class="mermaid"> elements, written by the server; Mermaid replaces each with
// an SVG. securityLevel 'strict' keeps labels as text (no HTML, no click handlers).
(function () {
  'use strict';
  var status = document.getElementById('diagrams-status');
  // The ER diagram of a real model is wide: drawn at its natural size, it scrolls in its section rather
  // than shrinking to unreadable text.
  mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'neutral', er: { useMaxWidth: false } });
  mermaid.run({ querySelector: 'pre.mermaid' }).then(function () {
    document.body.setAttribute('data-diagrams', 'done');
    if (status) status.hidden = true;
  }, function (err) {
    document.body.setAttribute('data-diagrams', 'failed');
    if (status) status.textContent = String(err && err.message || err);
    console.error('diagrams:', err);
  });
})();
