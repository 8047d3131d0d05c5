"""The HTTP face of the agent: chat API (SSE + JSON), webhooks, the embeddable widget and the demo
storefront. Build it with `server.app.create_app(settings)`; `support-agent serve` runs it."""
