import Foundation
import TwoStepCore

// TwoStepCore's costs on one core: TOTP checks (the validate path's CPU work), key derivation
// for passwords and recovery codes, and QR encoding of an enrolment URI.
// Usage: otp-benchmark [seconds per figure, default 2]

let seconds = CommandLine.arguments.count > 1 ? Double(CommandLine.arguments[1]) ?? 2 : 2

/// Runs `body` in batches until `seconds` have passed; returns operations per second.
func rate(_ label: String, batch: Int = 1_000, _ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    var operations = 0
    let start = clock.now
    while clock.now - start < .seconds(seconds) {
        for _ in 0..<batch { body() }
        operations += batch
    }
    let elapsed = clock.now - start
    let perSecond = Double(operations) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    let figure = perSecond >= 100 ? String(format: "%12.0f/s", perSecond) : String(format: "%12.2f/s", perSecond)
    print(label.padding(toLength: 58, withPad: " ", startingAt: 0) + figure + String(format: "  (%.3f µs each)", 1e6 / perSecond))
    return perSecond
}

var sink = 0
let now = Date(timeIntervalSince1970: 1_700_000_015)

// 1,000 users' keys, so the figures do not rest on one hot key.
let totps = try (0..<1_000).map { _ in try TOTP(secret: SecureRandom.bytes(20)) }
let codes = totps.map { $0.code(at: now) }
var index = 0

print("TwoStepCore on one core, \(seconds) s per figure")
_ = rate("TOTP verify, valid code, window 0") {
    index = (index + 1) % 1_000
    if totps[index].verify(codes[index], at: now, window: 0).isAccepted { sink += 1 }
}
_ = rate("TOTP verify, valid code, window ±1") {
    index = (index + 1) % 1_000
    if totps[index].verify(codes[index], at: now, window: 1).isAccepted { sink += 1 }
}
_ = rate("TOTP verify, wrong code, window ±1") {
    index = (index + 1) % 1_000
    if totps[index].verify("000000", at: now, window: 1).isAccepted { sink += 1 }
}
let secrets = (0..<1_000).map { _ in SecureRandom.bytes(20) }
_ = rate("TOTP key the HMAC + verify, window ±1 (per request)") {
    index = (index + 1) % 1_000
    if (try! TOTP(secret: secrets[index])).verify(codes[index], at: now, window: 1).isAccepted { sink += 1 }
}
let ring = KeyRing(active: .generate())
let sealed = secrets.enumerated().map { ring.seal($0.element, context: "totp:\($0.offset)") }
_ = rate("open sealed secret + key + verify ±1 (server path)") {
    index = (index + 1) % 1_000
    let secret = try! ring.open(sealed[index], context: "totp:\(index)")
    if (try! TOTP(secret: secret)).verify(codes[index], at: now, window: 1).isAccepted { sink += 1 }
}
let uri = OTPKeyURI(secret: secrets[0], account: "alice@example.com", issuer: "TwoStep").description
_ = rate("QR encode an otpauth URI + SVG", batch: 10) {
    sink += (try! QRCode(text: uri)).svg(title: "QR").count
}
let passwordHash = SecretHasher.passwords.hash("correct horse battery staple")
_ = rate("password verify (scrypt N=2^14 r=8 p=5)", batch: 1) {
    if SecretHasher.passwords.verify("correct horse battery staple", against: passwordHash) { sink += 1 }
}
let recoveryHash = RecoveryCode.generate().hashed()
_ = rate("recovery code verify (scrypt N=2^12 r=8 p=1)", batch: 1) {
    if SecretHasher.recoveryCodes.verify("k7dpx3mq2a", against: recoveryHash) { sink += 1 }
}
if sink == 42 { print("") }  // keeps the work from being optimised away
