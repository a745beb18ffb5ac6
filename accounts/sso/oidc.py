"""OpenID Connect for a relying party configured per organisation at run time.

Authlib gives the PKCE challenge; joserfc (Authlib's JOSE library) verifies the ID
token: signature against the provider's JWKS (by `kid`), then issuer, audience, expiry,
issued-at and nonce, and we require `email_verified`. The HTTP calls (discovery, JWKS,
token endpoint) use the standard library with a short timeout: a provider that does not
answer gives a clear error, never a hung worker.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

from core.secrets import SecretError, decrypt

TIMEOUT = 8  # seconds, for each call to the provider
# Asymmetric algorithms only: a symmetric one would let anyone holding the client secret
# mint tokens, and "none" is never accepted.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
DISCOVERY_TTL = 600


class OidcError(Exception):
    """A sign-in that must be refused; the message is shown on the page."""


def _fetch(url: str, data: dict | None = None, auth: tuple[str, str] | None = None) -> dict:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise OidcError(f"The provider address {url} is not an http(s) URL.")
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body,  # noqa: S310 - http(s) checked above
                                     headers={"Accept": "application/json"})
    if auth:
        import base64

        pair = ":".join(urllib.parse.quote(p, safe="") for p in auth)
        request.add_header("Authorization", "Basic " + base64.b64encode(pair.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - http(s) checked above
            return json.loads(response.read(1_000_000))
    except urllib.error.HTTPError as exc:
        detail = exc.read(2000).decode(errors="replace")
        raise OidcError(f"The provider answered {exc.code} at {url}: {detail[:200]}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise OidcError(f"The provider at {url} could not be reached ({exc}).") from exc
    except ValueError as exc:
        raise OidcError(f"The provider's answer at {url} is not JSON.") from exc


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def discover(issuer: str, *, fresh: bool = False) -> dict:
    key = f"oidc:discovery:{issuer}"
    doc = None if fresh else cache.get(key)
    if doc is None:
        doc = _fetch(discovery_url(issuer))
        if not isinstance(doc, dict) or doc.get("issuer") != issuer.rstrip("/") and \
                doc.get("issuer") != issuer:
            raise OidcError(f"The discovery document names issuer {doc.get('issuer')!r}, not "
                            f"{issuer!r}: check the issuer URL.")
        for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not doc.get(field):
                raise OidcError(f"The discovery document has no {field}.")
        cache.set(key, doc, DISCOVERY_TTL)
    return doc


def key_set(doc: dict, *, fresh: bool = False) -> KeySet:
    key = f"oidc:jwks:{doc['jwks_uri']}"
    data = None if fresh else cache.get(key)
    if data is None:
        data = _fetch(doc["jwks_uri"])
        cache.set(key, data, DISCOVERY_TTL)
    try:
        return KeySet.import_key_set(data)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise OidcError(f"The provider's keys cannot be read ({exc}).") from exc


@dataclass
class Flow:
    """What one authorization request must remember until the callback."""

    state: str
    nonce: str
    verifier: str
    org_slug: str
    next_url: str = ""


def authorization_url(config, *, redirect_uri: str, org_slug: str, next_url: str = ""
                      ) -> tuple[str, Flow]:
    doc = discover(config.issuer)
    flow = Flow(state=secrets.token_urlsafe(24), nonce=secrets.token_urlsafe(24),
                verifier=secrets.token_urlsafe(48), org_slug=org_slug, next_url=next_url)
    scope = "openid email profile"
    if config.groups_claim:
        scope += " groups"
    params = {
        "response_type": "code", "client_id": config.client_id, "redirect_uri": redirect_uri,
        "scope": scope, "state": flow.state, "nonce": flow.nonce,
        "code_challenge": create_s256_code_challenge(flow.verifier),
        "code_challenge_method": "S256",
    }
    sep = "&" if "?" in doc["authorization_endpoint"] else "?"
    return doc["authorization_endpoint"] + sep + urllib.parse.urlencode(params), flow


def client_secret(config) -> str:
    try:
        return decrypt(config.client_secret_encrypted)
    except SecretError as exc:
        raise OidcError(_("The client secret can no longer be read (the encryption key "
                        "changed): an admin must enter it again.")) from exc


def exchange_code(config, *, code: str, flow: Flow, redirect_uri: str) -> dict:
    doc = discover(config.issuer)
    tokens = _fetch(doc["token_endpoint"], data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "code_verifier": flow.verifier, "client_id": config.client_id,
    }, auth=(config.client_id, client_secret(config)))
    if not isinstance(tokens, dict) or not tokens.get("id_token"):
        raise OidcError(_("The provider returned no ID token."))
    return tokens


def validate_id_token(config, id_token: str, *, nonce: str) -> dict:
    """The verified claims of an ID token, or OidcError saying what is wrong."""
    doc = discover(config.issuer)
    keys = key_set(doc)
    try:
        token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
    except BadSignatureError as exc:
        raise OidcError(_("The ID token's signature does not verify.")) from exc
    except JoseError as exc:
        if "kid" in str(exc).lower() or exc.__class__.__name__ in ("InvalidKeyIdError",
                                                                      "MissingKeyError"):
            # The provider may have rotated its keys: fetch them once more before refusing.
            try:
                token = jwt.decode(id_token, key_set(doc, fresh=True), algorithms=ALGORITHMS)
            except JoseError as again:
                raise OidcError(_("The ID token is signed with a key the provider does not "
                                "publish (unknown kid).")) from again
        else:
            raise OidcError(f"The ID token cannot be read ({exc.error or exc}).") from exc
    except (ValueError, TypeError) as exc:
        raise OidcError(_("The ID token is malformed.")) from exc
    claims = token.claims
    registry = jwt.JWTClaimsRegistry(
        leeway=60,
        iss={"essential": True, "value": doc["issuer"]},
        aud={"essential": True, "value": config.client_id},
        exp={"essential": True}, iat={"essential": True}, sub={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError as exc:
        raise OidcError(_("The ID token has expired.")) from exc
    except MissingClaimError as exc:
        raise OidcError(f"The ID token lacks a required claim ({exc.description}).") from exc
    except InvalidClaimError as exc:
        raise OidcError(f"The ID token's claim is wrong ({exc.description}).") from exc
    except JoseError as exc:
        raise OidcError(f"The ID token is not valid ({exc}).") from exc
    aud = claims.get("aud")
    if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != config.client_id:
        raise OidcError(_("The ID token was issued to another client (azp)."))
    if not claims.get("email"):
        raise OidcError(_("The provider did not send an e-mail address."))
    if claims.get("email_verified") is not True:
        raise OidcError(_("The provider does not say this e-mail address is verified."))
    return claims


def test_connection(config) -> list[tuple[bool, str]]:
    """Fetch discovery and the keys afresh: each step with what it found."""
    steps: list[tuple[bool, str]] = []
    try:
        doc = discover(config.issuer, fresh=True)
        steps.append((True, f"Discovery document found at {discovery_url(config.issuer)}."))
        keys = key_set(doc, fresh=True)
        signing = [k for k in keys.keys if k.get("use", "sig") == "sig"]
        if not signing:
            raise OidcError(_("The provider publishes no signing key."))
        steps.append((True, f"{len(signing)} signing key(s) published at {doc['jwks_uri']}."))
        if "S256" not in doc.get("code_challenge_methods_supported", ["S256"]):
            steps.append((False, "The provider does not announce PKCE S256."))
        if doc.get("end_session_endpoint"):
            steps.append((True, "Logging out of Headway also ends the provider session."))
        client_secret(config)
    except OidcError as exc:
        steps.append((False, str(exc)))
    return steps
