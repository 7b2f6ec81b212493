// Markbook's GraphQL explorer: GraphiQL against this service's /graphql, from files the service
// serves itself (nothing from a CDN, so it works offline). Sign in with POST /v1/auth/token,
// paste the access token into the Headers tab below the query, then re-fetch the schema
// (the circular-arrow button, or Shift-Ctrl-R). Headers are not kept in the browser's storage.
(function () {
  "use strict";
  var page = document.getElementById("graphiql");
  var endpoint = page.getAttribute("data-endpoint");
  var fetcher = GraphiQL.createFetcher({ url: endpoint });
  var headers = JSON.stringify(
    { Authorization: "Bearer paste-your-access-token-here" },
    null,
    2
  );
  var query = [
    "# Paste your token into Headers (below), re-fetch the schema (Shift-Ctrl-R), then run.",
    "{",
    "  me { name roles { role schoolId trustId } }",
    "}",
    "",
  ].join("\n");
  ReactDOM.createRoot(page).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: query,
      defaultHeaders: headers,
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    })
  );
})();
