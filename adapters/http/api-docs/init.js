// Swagger UI over this server's own OpenAPI document. No validator badge: it would send the
// document to validator.swagger.io. Everything this page loads comes from this server.
window.ui = SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
