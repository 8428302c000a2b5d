// Starts GraphiQL on #graphiql, with the vendored UMD builds of React 18
// (globals React, ReactDOM) and GraphiQL 3 (global GraphiQL). The endpoint comes
// from the element's data-endpoint attribute, so the page needs no inline script
// and its Content-Security-Policy can forbid them.
(function () {
  'use strict';
  var root = document.getElementById('graphiql');
  var fetcher = GraphiQL.createFetcher({
    url: root.getAttribute('data-endpoint'),
    // createFetcher merges the headers typed in GraphiQL's headers editor (such
    // as Authorization) into each request; this wrapper also sends the session
    // cookie, which the API needs when the user is signed in to the admin screens.
    fetch: function (input, init) {
      return window.fetch(input, Object.assign({}, init, { credentials: 'same-origin' }));
    },
  });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      // Keep typed headers (tokens) out of localStorage.
      shouldPersistHeaders: false,
    }),
  );
})();
