"""WooCommerce REST API v3: the client, its models, webhook signatures and the adapter."""
