"""Test data for the validate benchmark: users with app keys, and request bodies with their codes.

  bench.py users N                 CSV for `twostep user import`: userI@bench.test,<base32 key>
  bench.py bodies N valid|wrong C STEP   C JSON bodies for POST /api/v1/validate, one per line

Keys are HMAC-SHA1("twostep-bench", I), so both commands agree without storing a million keys.
Valid bodies use each user once per time step, for the steps STEP-1, STEP and STEP+1, oldest step
first: run them during STEP, and the server's replay guard accepts each once, in order. Wrong bodies hold codes that match none of the steps STEP-2 to STEP+4, at most 4 per user, so no
account reaches the 5-failure lockout and every request is a real check. Codes come from pyotp.
"""
import base64
import hashlib
import hmac
import json
import random
import sys

import pyotp


def key(index):
    return base64.b32encode(hmac.new(b"twostep-bench", str(index).encode(), hashlib.sha1).digest()).decode()


def users(count):
    out = sys.stdout
    for index in range(count):
        out.write(f"user{index}@bench.test,{key(index)}\n")


def bodies(count, kind, limit, step):
    order = list(range(count))
    random.Random(7).shuffle(order)  # no locality the server could lean on
    out = sys.stdout
    written = 0
    rounds = [step - 1, step, step + 1] if kind == "valid" else range(4)
    for round_ in rounds:
        for index in order:
            if written == limit:
                return
            totp = pyotp.TOTP(key(index))
            if kind == "valid":
                code = totp.at(round_ * 30)
            else:
                # None of the steps a run of wrong codes can meet: it starts during STEP and may
                # last into STEP+2 (1,000,000 users: 240,000 codes in 30-35 s after the valid runs),
                # where the server's window reaches STEP+3; one step more for a slow run.
                window = {totp.at((step + d) * 30) for d in range(-2, 5)}
                code = next(c for c in (f"{(round_ * 250_000 + index * 7919 + n) % 1_000_000:06d}" for n in range(10)) if c not in window)
            out.write(json.dumps({"user": f"user{index}@bench.test", "code": code}) + "\n")
            written += 1


if __name__ == "__main__":
    if sys.argv[1] == "users":
        users(int(sys.argv[2]))
    elif sys.argv[1] == "bodies":
        bodies(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit(__doc__)
