"""BigCommerce API payloads as BigCommerce publishes them, reduced (see reference.py)."""
