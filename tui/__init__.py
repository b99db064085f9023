"""triage: find forged and abused access tokens in Microsoft 365 / Entra ID / proxy log exports."""

__version__ = "0.1.0"
