"""An application that signs its users in with TwoStep: Flask and Authlib's OpenID Connect client."""
import os

from authlib.integrations.flask_client import OAuth
from flask import Flask, abort, redirect, session, url_for
from markupsafe import escape

app = Flask(__name__)
app.secret_key = os.environ["APP_SECRET_KEY"]
oauth = OAuth(app)
oauth.register(
    "twostep",
    server_metadata_url=os.environ["TWOSTEP_URL"] + "/.well-known/openid-configuration",
    client_id=os.environ["TWOSTEP_CLIENT_ID"],
    client_secret=os.environ["TWOSTEP_CLIENT_SECRET"],
    client_kwargs={"scope": "openid email", "code_challenge_method": "S256"},
)


@app.route("/")
def home():
    user = session.get("user")
    if not user:
        return '<a id="login" href="/login">Sign in with TwoStep</a>'
    return f'<p id="who">{escape(user["email"])} (sub {escape(user["sub"])}) amr={escape(" ".join(user["amr"]))}</p>'


@app.route("/login")
def login():
    return oauth.twostep.authorize_redirect(url_for("callback", _external=True))


@app.route("/callback")
def callback():
    # Checks state and PKCE, then the ID token: ES256 signature against TwoStep's JWKS, iss, aud, exp, nonce.
    token = oauth.twostep.authorize_access_token()
    claims = token["userinfo"]
    if "mfa" not in claims.get("amr", []):
        abort(403)  # this application takes two factors only
    session["user"] = {"sub": claims["sub"], "email": claims.get("email", ""), "amr": claims["amr"]}
    return redirect("/")
