// The API's interactive documentation: Swagger UI, served by the site itself, reading the
// OpenAPI document. Kept in a file because the site's Content-Security-Policy allows no
// inline script.
(function () {
  "use strict";
  var root = document.getElementById("api-docs");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    deepLinking: true,
    persistAuthorization: false,
    tryItOutEnabled: false,
    validatorUrl: null
  });
})();
