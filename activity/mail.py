"""The e-mails of the inbox side: mentions, replies, notices (HTML and plain text).

Every message is rendered from two templates (``<name>.txt`` and ``<name>.html``) plus a
one-line subject, and sent with ``EmailMultiAlternatives`` (console backend in development,
locmem in tests). Links are absolute (settings.SITE_URL).
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy

from accounts.locale import language_for
from accounts.models import Organization
from activity.comments import Target, render_body


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def send(*, template: str, to: str, context: dict) -> None:
    """Render ``emails/<template>_subject.txt``, ``.txt`` and ``.html`` and send them."""
    with translation.override(language_for(context.get("user"), context.get("org"))):
        subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, None, [to])
    message.attach_alternative(html, "text/html")
    message.send()


def _comment_context(org: Organization, comment, target: Target, user, verb: str) -> dict:
    # Lazy: "Someone" is rendered inside send()'s override, in the recipient's language.
    who = comment.author.display_name if comment.author else gettext_lazy("Someone")
    return {"org": org, "user": user, "who": who, "verb": verb, "target": target,
            "url": absolute(target.url), "body": comment.body,
            "body_html": render_body(comment.body),
            "preferences_url": absolute(f"/o/{org.slug}/preferences/")}


def send_mention(*, org: Organization, comment, target: Target, user) -> None:
    send(template="comment_mention", to=user.email,
         context=_comment_context(org, comment, target, user, "mentioned you"))


def send_reply(*, org: Organization, comment, target: Target, user) -> None:
    send(template="comment_reply", to=user.email,
         context=_comment_context(org, comment, target, user, "replied"))


def send_notice(*, org: Organization, user, text: str, url: str) -> None:
    send(template="notice", to=user.email,
         context={"org": org, "user": user, "text": text, "url": absolute(url),
                  "preferences_url": absolute(f"/o/{org.slug}/preferences/")})


def send_rendered(*, subject: str, to: str, text: str, html: str) -> None:
    message = EmailMultiAlternatives(subject, text, None, [to])
    message.attach_alternative(html, "text/html")
    message.send()
