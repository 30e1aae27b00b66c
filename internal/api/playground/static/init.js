// Starts GraphiQL on the page Inkgraph serves at /. A file of its own: the page's
// Content-Security-Policy allows scripts from the server only, never inline ones.
(function () {
  'use strict';
  var root = document.getElementById('graphiql');
  var endpoint = root.dataset.endpoint;
  var socket = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + endpoint;
  // Queries and mutations are POSTed to the endpoint; subscriptions go over graphql-ws
  // (the graphql-transport-ws protocol) to the same path, bundled in GraphiQL's build.
  // The headers typed in the headers editor are sent with each POST and, for a
  // subscription, as the connection_init payload, where the server reads Authorization.
  var fetcher = GraphiQL.createFetcher({ url: endpoint, subscriptionUrl: socket });
  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultTabs: JSON.parse(root.dataset.tabs),
    isHeadersEditorEnabled: true,
    // Tokens stay in memory: closing the page forgets them.
    shouldPersistHeaders: false,
    defaultEditorToolsVisibility: 'headers'
  }));
})();
