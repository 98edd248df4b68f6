// Starts GraphiQL against this server: queries and mutations over HTTP, subscriptions over the
// WebSocket on the same path. Headers typed into GraphiQL's headers editor
// ({"Authorization": "Bearer …"}) also go in the WebSocket's connection_init payload.
(function () {
  'use strict';
  var root = document.getElementById('graphiql');
  var http = new URL(root.dataset.endpoint, window.location.href);
  var ws = new URL(http.href);
  ws.protocol = http.protocol === 'https:' ? 'wss:' : 'ws:';
  var fetch = GraphiQL.createFetcher({ url: http.href, subscriptionUrl: ws.href });
  // The toolkit sends an operation over the WebSocket when the document GraphiQL hands it is a
  // subscription; GraphiQL parses the editor after a pause, so a run right after an edit can
  // hand over the previous document. Parse what is actually sent.
  function fetcher(params, options) {
    try {
      options = Object.assign({}, options, { documentAST: GraphiQL.GraphQL.parse(params.query) });
    } catch (_) {
      // Not parseable: the server answers with the parse error.
    }
    return fetch(params, options);
  }
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultEditorToolsVisibility: true }),
  );
})();
