"""BigCommerce (V2 orders, V3 payment actions, catalog and hooks): client, models, webhooks, adapter."""
