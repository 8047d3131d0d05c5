"""`support-agent keygen`: fresh secrets for a real store, as lines to paste into `.env`.

Every signing secret we choose ourselves gets a new random value that passes the checks of
`agent.secret_strength`; `CREDENTIAL_KEYS` gets a Fernet key. Shopify's webhook secret is not
ours to choose (Shopify signs with the app's API secret key), so it is only explained.
"""

from __future__ import annotations

import argparse

from agent.secret_strength import generate_secret
from integrations.credentials import CredentialStore

# The signing secrets this product chooses itself (Shopify's is the app's secret).
GENERATED_SECRETS = ("STORE_SECRET", "GORGIAS_WEBHOOK_SECRET", "SANDBOX_CONTROL_TOKEN")


def keygen_lines() -> list[str]:
    """`.env` lines: a new value for every generated secret, a comment for Shopify's."""
    lines = ["# Fresh secrets from `support-agent keygen`: keep them out of version control."]
    lines += [f"{name}={generate_secret()}" for name in GENERATED_SECRETS]
    lines.append(f"CREDENTIAL_KEYS={CredentialStore.generate_key()}")
    lines.append("# SHOPIFY_WEBHOOK_SECRET= the API secret key of your Shopify app (Shopify signs with it).")
    return lines


def run_keygen(args: argparse.Namespace) -> int:
    if getattr(args, "credential_key", False):
        print(CredentialStore.generate_key())
        return 0
    print("\n".join(keygen_lines()))
    return 0
