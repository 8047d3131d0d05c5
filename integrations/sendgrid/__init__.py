"""SendGrid: the escalation email to the team and the return-label email to the shopper."""

from integrations.sendgrid.client import SendGridMailer
from integrations.sendgrid.models import SentEmail

__all__ = ["SendGridMailer", "SentEmail"]
