"""JWT access and refresh tokens (joserfc), algorithm pinned to HS256.

``jwt.decode`` checks only the signature, so every claim the server relies on (``iss``, ``aud``,
``exp``, ``iat``, ``jti``, ``typ``, ``sid``) is validated with a claims registry here. Revocation
lives in the session row the ``sid`` claim points at (see auth.models), which survives restarts
and is shared by every process through the database. Access tokens also carry ``gen``, the
session's access-token generation they were issued in (absent means 0).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import OctKey

from ipv6wgm.security.keys import derive_key

ALGORITHM = "HS256"
ACCESS = "access"
REFRESH = "refresh"
WEB = "web"  # the web UI's session cookie: names a session row like the others, no generation


class TokenError(Exception):
    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    session_id: str
    jti: str
    typ: str
    exp: int
    gen: int = 0


LEEWAY_S = 5
VERIFIED_CACHE_SIZE = 10_000


class TokenService:
    def __init__(self, master: bytes, issuer: str, audience: str) -> None:
        self._key = OctKey.import_key(derive_key(master, "jwt-hs256"))
        self.issuer, self.audience = issuer, audience
        self._registries = {
            typ: jwt.JWTClaimsRegistry(
                leeway=LEEWAY_S,
                iss={"essential": True, "value": issuer},
                aud={"essential": True, "value": audience},
                exp={"essential": True},
                iat={"essential": True},
                jti={"essential": True},
                sub={"essential": True},
                sid={"essential": True},
                typ={"essential": True, "value": typ},
            )
            for typ in (ACCESS, REFRESH, WEB)
        }
        # Verified access tokens: the same bytes verify the same way until they expire, and a
        # token is presented on every request (decoding and checking it cost ~40 us each time).
        # Revocation is not decided here: the session is checked on every request regardless.
        self._verified: dict[str, TokenClaims] = {}

    def issue(self, user_id: int, session_id: str, typ: str, ttl: int, gen: int = 0) -> tuple[str, TokenClaims]:
        now = int(time.time())
        claims = TokenClaims(user_id, session_id, uuid.uuid4().hex, typ, now + ttl, gen)
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user_id),
            "sid": session_id,
            "jti": claims.jti,
            "typ": typ,
            "iat": now,
            "exp": claims.exp,
        }
        if typ == ACCESS:
            payload["gen"] = gen
        return jwt.encode({"alg": ALGORITHM, "typ": "JWT"}, payload, self._key, algorithms=[ALGORITHM]), claims

    def verify(self, token: str, typ: str) -> TokenClaims:
        if not token or len(token) > 4096:
            raise TokenError("malformed token")
        known = self._verified.get(token) if typ in (ACCESS, WEB) else None
        if known is not None:
            if known.typ != typ:  # an access token is no cookie, and the other way round
                raise TokenError("invalid token")
            if known.exp + LEEWAY_S > time.time():
                return known
            del self._verified[token]
        claims = self._verify(token, typ)
        if typ in (ACCESS, WEB):
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                self._verified.clear()
            self._verified[token] = claims
        return claims

    def _verify(self, token: str, typ: str) -> TokenClaims:
        try:
            decoded = jwt.decode(token, self._key, algorithms=[ALGORITHM])
            if decoded.header.get("alg") != ALGORITHM:
                raise TokenError("unexpected algorithm")
            self._registries[typ].validate(decoded.claims)
            claims = decoded.claims
            gen = claims.get("gen", 0)
            if type(gen) is not int or gen < 0:
                raise TokenError("invalid token generation")
            return TokenClaims(int(claims["sub"]), str(claims["sid"]), str(claims["jti"]), typ, int(claims["exp"]), gen)
        except ExpiredTokenError as exc:
            raise TokenError("token expired", expired=True) from exc
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise TokenError("invalid token") from exc
