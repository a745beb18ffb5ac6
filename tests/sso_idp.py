"""A small OpenID provider for the SSO tests, served on 127.0.0.1 from a thread.

It is real enough to refuse what a real one refuses (unknown or reused codes, a PKCE
verifier that does not match, a wrong client secret) and signs RS256 ID tokens with a key
generated per test run. `tamper` lets a test make it send a bad token: {"aud": "other"},
{"exp": -3600}, {"nonce": None} (dropped), {"kid": "unknown"}, {"foreign_key": True}
(signed with a key it does not publish, under the published kid), {"email_verified": False}.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from joserfc import jwt
from joserfc.jwk import RSAKey


class Provider:
    def __init__(self, *, client_id="headway", client_secret="s3cret-value"):
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig",
                                                         "alg": "RS256"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.user = {"sub": "u-1", "email": "nia@globex.test", "email_verified": True,
                     "name": "Nia Globex", "groups": []}
        self.tamper: dict = {}
        self.codes: dict[str, dict] = {}
        self.logged_out = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Provider:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def discovery(self) -> dict:
        i = self.issuer
        return {"issuer": i, "authorization_endpoint": f"{i}/authorize",
                "token_endpoint": f"{i}/token", "jwks_uri": f"{i}/jwks",
                "end_session_endpoint": f"{i}/logout",
                "code_challenge_methods_supported": ["S256"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code"], "subject_types_supported": ["public"]}

    def id_token(self, nonce: str | None) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + 300,
                  **self.user, "nonce": nonce}
        if "aud" in self.tamper:
            claims["aud"] = self.tamper["aud"]
        if "exp" in self.tamper:
            claims["exp"] = now + self.tamper["exp"]
            claims["iat"] = claims["exp"] - 300
        if "nonce" in self.tamper:
            claims.pop("nonce")
        if "email_verified" in self.tamper:
            claims["email_verified"] = self.tamper["email_verified"]
        header = {"alg": "RS256", "kid": self.tamper.get("kid", "k1")}
        key = self.other_key if self.tamper.get("foreign_key") else self.key
        return jwt.encode(header, claims, key)

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status, data):
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):  # noqa: N802
                url = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/.well-known/openid-configuration":
                    return self._json(200, provider.discovery())
                if url.path == "/jwks":
                    return self._json(200, {"keys": [provider.key.as_dict(private=False)]})
                if url.path == "/logout":
                    provider.logged_out += 1
                    self.send_response(302)
                    self.send_header("Location", q.get("post_logout_redirect_uri", "/"))
                    self.end_headers()
                    return None
                if url.path == "/authorize":
                    if q.get("client_id") != provider.client_id or \
                            q.get("code_challenge_method") != "S256":
                        return self._json(400, {"error": "invalid_request"})
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = {"nonce": q.get("nonce"),
                                            "challenge": q["code_challenge"],
                                            "redirect_uri": q["redirect_uri"]}
                    target = q["redirect_uri"] + "?" + urllib.parse.urlencode(
                        {"code": code, "state": q.get("state", "")})
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                    return None
                return self._json(404, {"error": "not_found"})

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                auth = self.headers.get("Authorization", "")
                expected = base64.b64encode(
                    f"{provider.client_id}:{provider.client_secret}".encode()).decode()
                if auth != f"Basic {expected}":
                    return self._json(401, {"error": "invalid_client"})
                grant = provider.codes.pop(form.get("code", ""), None)  # a code works once
                if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
                    return self._json(400, {"error": "invalid_grant"})
                verifier = form.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(
                    hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if challenge != grant["challenge"]:
                    return self._json(400, {"error": "invalid_grant",
                                            "error_description": "PKCE"})
                return self._json(200, {"access_token": "at", "token_type": "Bearer",
                                        "id_token": provider.id_token(grant["nonce"])})

        return Handler
