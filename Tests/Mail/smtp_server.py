"""A real SMTP server for TwoStep's mail tests (aiosmtpd), or a broken one.

    smtp_server.py --out FILE [--starttls CERT KEY | --tls CERT KEY] [--auth USER:PASSWORD]
                   [--tempfail N] [--reject] [--fail-after N] [--only-login] [--mode smtp|hang|close|garbage|inject]

Prints "READY <port>" once it listens on 127.0.0.1, then serves until killed. Every message it
accepts becomes one JSON line in FILE: envelope, the TLS and AUTH state of the session, the raw
data, and the headers and parts as Python's e-mail parser reads them. Every transaction it
refuses becomes a line with "refused".
"""
import argparse
import asyncio
import email
import email.policy
import json
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--starttls", nargs=2)
    parser.add_argument("--tls", nargs=2)
    parser.add_argument("--auth")
    parser.add_argument("--tempfail", type=int, default=0, help="answer 451 to the first N messages")
    parser.add_argument("--reject", action="store_true", help="answer 550 to every recipient")
    parser.add_argument("--fail-after", type=int, default=-1, help="accept N messages, then answer 554 to the rest")
    parser.add_argument("--only-login", action="store_true", help="offer AUTH LOGIN but not PLAIN")
    parser.add_argument("--mode", default="smtp")
    args = parser.parse_args()

    def record(entry):
        with open(args.out, "a") as out:
            out.write(json.dumps(entry) + "\n")

    if args.mode != "smtp":
        asyncio.run(broken(args.mode))
        return

    state = {"tempfail": args.tempfail, "accepted": 0}

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if args.reject:
                record({"refused": 550})
                # As Postfix words it, quoting the address (which must not reach the log).
                return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            if state["tempfail"] > 0:
                state["tempfail"] -= 1
                record({"refused": 451})
                return "451 4.3.0 Try again later"
            if 0 <= args.fail_after <= state["accepted"]:
                record({"refused": 554})
                return "554 5.7.1 Message refused"
            state["accepted"] += 1
            raw = envelope.original_content.decode("utf-8")
            message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
            parts = {}
            for part in message.walk():
                if part.get_content_maintype() == "text":
                    parts[part.get_content_type()] = part.get_content()
            record({
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "tls": server.transport.get_extra_info("ssl_object") is not None,
                "auth": session.authenticated,
                "login": session.auth_data,
                "raw": raw,
                "headers": {key: str(value) for key, value in message.items()},
                "parts": parts,
            })
            return "250 2.0.0 Message accepted"

    def authenticator(server, session, envelope, mechanism, auth_data):
        user, password = args.auth.split(":", 1)
        ok = auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False, auth_data=user if ok else None)

    kwargs = {}
    server_ssl = None
    if args.starttls or args.tls:
        cert, key = args.starttls or args.tls
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        if args.starttls:
            kwargs["tls_context"] = context
            kwargs["require_starttls"] = True
        else:
            server_ssl = context
    if args.auth:
        kwargs["authenticator"] = authenticator
        # With implicit TLS the whole connection is TLS already (aiosmtpd only knows STARTTLS).
        kwargs["auth_require_tls"] = not args.tls
        kwargs["auth_exclude_mechanism"] = ["PLAIN"] if args.only_login else []

    async def serve():
        handler = Handler()
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="localhost", **kwargs), "127.0.0.1", 0, ssl=server_ssl
        )
        print("READY", server.sockets[0].getsockname()[1], flush=True)
        await loop.run_in_executor(None, sys.stdin.read)  # until the test closes our stdin or kills us

    asyncio.run(serve())


async def broken(mode):
    """Servers that break the protocol: hang, close early, garbage, or plaintext after STARTTLS."""

    async def serve(reader, writer):
        try:
            if mode == "hang":
                await asyncio.sleep(3600)
            elif mode == "close":
                writer.write(b"220 localhost ESMTP\r\n")
                await writer.drain()
                await reader.readline()
                writer.close()
            elif mode == "garbage":
                writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
                await writer.drain()
                await asyncio.sleep(3600)
            elif mode == "inject":
                writer.write(b"220 localhost ESMTP\r\n")
                await reader.readline()
                writer.write(b"250-localhost\r\n250 STARTTLS\r\n")
                await reader.readline()
                # The 220 and a forged reply in one packet: CVE-2011-0411.
                writer.write(b"220 Ready to start TLS\r\n250 forged\r\n")
                await writer.drain()
                await asyncio.sleep(3600)
        except (ConnectionError, asyncio.CancelledError):
            pass

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    print("READY", server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    main()
