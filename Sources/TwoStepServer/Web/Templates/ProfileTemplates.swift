extension Templates {
    static let profile = """
        {{<layout}}{{$body}}
        <div class="with-menu">
        {{>menu}}
        <section class="card">
          <h1>Profile</h1>
          {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
          <dl class="facts">
            <dt>E-mail address</dt><dd>{{email}}</dd>
            <dt>Member since</dt><dd>{{memberSince}}</dd>
            <dt>Two-Factor Authentication</dt><dd>{{#enabled}}On{{/enabled}}{{^enabled}}Off — <a href="/profile/two-factor">turn it on</a>{{/enabled}}</dd>
          </dl>
          <h2>Change password</h2>
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          <form method="post" action="/profile/password">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <label for="current">Current password</label>
            <input id="current" name="current" type="password" autocomplete="current-password" required>
            <label for="new">New password</label>
            <input id="new" name="new" type="password" autocomplete="new-password" required minlength="8" maxlength="128">
            <p class="help">Changing it signs out trusted devices.</p>
            <button type="submit">Change password</button>
          </form>
        </section>
        </div>
        {{/body}}{{/layout}}
        """

    static let twoFactor = """
        {{<layout}}{{$body}}
        <div class="with-menu">
        {{>menu}}
        <section class="card">
          <h1>Two-Factor Authentication</h1>
          {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          <dl class="facts">
            <dt>Status</dt><dd id="status">{{#enabled}}<span class="on">Enabled</span>{{/enabled}}{{^enabled}}<span class="off">Disabled</span>{{/enabled}}</dd>
            {{#enabled}}<dt>Method</dt><dd id="method">{{method}}</dd>{{/enabled}}
          </dl>
          {{^enabled}}
          <p>Add a security code to your sign-in: without the code from your phone, a stolen password is not enough.</p>
          <p><a class="button" href="/profile/two-factor/enable">Enable</a></p>
          {{/enabled}}
          {{#enabled}}
          <p><a class="button danger" href="/profile/two-factor/disable">Disable</a></p>
          {{/enabled}}

          <h2>Recovery phone number</h2>
          {{#recoveryPhone}}
          <p id="recovery-phone">Codes can also be sent to <strong>{{recoveryPhone}}</strong> when you sign in.</p>
          <p><a class="button" href="/profile/two-factor/recovery-phone">Change</a></p>
          <form method="post" action="/profile/two-factor/recovery-phone/remove">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <button type="submit" class="small">Remove recovery phone number</button>
          </form>
          {{/recoveryPhone}}
          {{^recoveryPhone}}
          <p>If your primary method is not available, a code can be texted to a second number.</p>
          <p><a class="button" href="/profile/two-factor/recovery-phone">Add recovery phone number</a></p>
          {{/recoveryPhone}}

          <h2>Recovery codes</h2>
          <section id="recovery" aria-label="Recovery codes">
          {{#enabled}}
            {{#hasRecoveryCodes}}
            <p id="recovery-remaining"><strong>{{recoveryRemaining}} of {{recoveryTotal}}</strong> recovery codes left, generated {{recoveryGenerated}}.</p>
            {{#recoveryLow}}<p class="warning" role="status">Only {{recoveryRemaining}} recovery codes left. Generate a new set soon.</p>{{/recoveryLow}}
            {{#recoveryNoneLeft}}<p class="warning" role="status">You have used every recovery code. Generate a new set now.</p>{{/recoveryNoneLeft}}
            <p><a class="button" href="/profile/two-factor/recovery-codes">Show</a></p>
            {{/hasRecoveryCodes}}
            {{^hasRecoveryCodes}}<p>Recovery codes let you sign in if you lose your phone. Each works once; print them and keep them somewhere safe.</p>{{/hasRecoveryCodes}}
            <form method="post" action="/profile/two-factor/recovery-codes">
              <input type="hidden" name="csrf_token" value="{{csrf}}">
              <button type="submit">Generate tokens</button>
              {{#hasRecoveryCodes}}<span class="help">A new set replaces the old one at once.</span>{{/hasRecoveryCodes}}
            </form>
          {{/enabled}}
          {{^enabled}}<p>Turn on two-factor authentication first; recovery codes are its fallback.</p>{{/enabled}}
          </section>

          <h2>Trusted devices</h2>
          {{#hasDevices}}
          <table>
            <caption class="visually-hidden">Browsers that skip the security code</caption>
            <thead><tr><th scope="col">Browser</th><th scope="col">Trusted</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
            <tbody>
            {{#devices}}
            <tr>
              <td>{{browser}}{{#current}} <em>(this browser)</em>{{/current}}</td><td>{{created}}</td><td>{{lastUsed}}</td><td>{{expires}}</td>
              <td><form method="post" action="/profile/two-factor/devices/{{id}}/revoke"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" class="small">Revoke</button></form></td>
            </tr>
            {{/devices}}
            </tbody>
          </table>
          <form method="post" action="/profile/two-factor/devices/revoke-all">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <button type="submit" class="small">Revoke all devices</button>
          </form>
          {{/hasDevices}}
          {{^hasDevices}}<p>No trusted devices: every sign-in asks for a security code.</p>{{/hasDevices}}

          <h2>Recent security activity</h2>
          {{#hasEvents}}
          <ul class="events">
            {{#events}}<li><time datetime="{{iso}}">{{when}}</time> {{what}}{{#detail}} — {{detail}}{{/detail}}</li>{{/events}}
          </ul>
          {{/hasEvents}}
          {{^hasEvents}}<p>Nothing yet.</p>{{/hasEvents}}
        </section>
        </div>
        {{/body}}{{/layout}}
        """

    static let enable = """
        {{<layout}}{{$body}}
        <div class="with-menu">
        {{>menu}}
        <section class="card">
          <h1>Enable Two-Factor Authentication</h1>
          <p>Choose how you want to receive your security code.</p>
          <div class="methods">
            <form method="post" action="/profile/two-factor/app" class="method">
              <input type="hidden" name="csrf_token" value="{{csrf}}">
              <button type="submit" class="tile"><span class="tile-title">App</span>
              <span class="tile-text">Use an app on your phone, such as Google Authenticator. Recommended.</span></button>
            </form>
            <div class="method">
              <a class="tile" href="/profile/two-factor/sms"><span class="tile-title">SMS</span>
              <span class="tile-text">Receive the code in a text message.</span></a>
            </div>
          </div>
          <p class="help">The app works without a phone signal; SMS delivery depends on your provider.</p>
        </section>
        </div>
        {{/body}}{{/layout}}
        """

    static let app = """
        {{<layout}}{{$body}}
        <div class="with-menu">
        {{>menu}}
        <section class="card">
          <h1>Set up your authenticator app</h1>
          <ol class="steps">
            <li>Open Google Authenticator (or another authenticator app) and scan this QR code.
              <figure class="qr" id="qr">{{{qrSVG}}}</figure>
              <p>Can’t scan it? Enter this key by hand (time-based):</p>
              <p><code id="manual-key" class="key">{{manualKey}}</code></p>
            </li>
            <li>Enter the 6-digit security code the app shows.</li>
          </ol>
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          <form method="post" action="/profile/two-factor/app/activate">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <label for="code">Security code</label>
            <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="10" required autofocus>
            <label class="check"><input type="checkbox" name="trust" value="on"> Trust this device — don’t ask for a code on this browser for {{trustDays}} days</label>
            <button type="submit">Activate 2-step verification</button>
          </form>
          <p class="help">This key expires at {{expires}} if you don’t finish.</p>
        </section>
        </div>
        {{/body}}{{/layout}}
        """

    static let disable = """
        {{<layout}}{{$body}}
        <div class="with-menu">
        {{>menu}}
        <section class="card">
          <h1>Disable Two-Factor Authentication</h1>
          <p class="warning">Disabling two-factor authentication decreases the security of your account. Your trusted devices will be forgotten.</p>
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          <form method="post" action="/profile/two-factor/disable">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <p>To confirm, enter your password or a current security code.</p>
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password">
            <label for="code">or security code</label>
            <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="10">
            <button type="submit" class="danger">Disable</button>
            <a href="/profile/two-factor">Keep it on</a>
          </form>
        </section>
        </div>
        {{/body}}{{/layout}}
        """
}

extension Templates {
    static let recoveryCodes = """
        {{<layout}}{{$body}}
        <div class="with-menu">
        {{>menu}}
        <section class="card">
          <h1>{{title}}</h1>
          {{#fresh}}<p class="notice" role="status">These 10 codes replace any earlier ones, which no longer work.</p>{{/fresh}}
          <p>Each code works once, in place of the security code from your phone. Print them or download them, and keep them somewhere safe.</p>
          {{#count}}
          <ol class="codes" id="recovery-codes">
            {{#codes}}<li><code>{{.}}</code></li>{{/codes}}
          </ol>
          {{/count}}
          {{^count}}<p class="warning">No unused codes are left. Generate a new set.</p>{{/count}}
          <p>
            <a class="button" href="/profile/two-factor/recovery-codes/print">Print</a>
            <a class="button" href="/profile/two-factor/recovery-codes/download" download="twostep-recovery-codes.txt">Download</a>
          </p>
          <p><a href="/profile/two-factor">Back to Two-Factor Authentication</a></p>
        </section>
        </div>
        {{/body}}{{/layout}}
        """

    /// A page of its own, without the site's header and menu, made to be printed.
    static let recoveryPrint = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>TwoStep recovery codes for {{email}}</title>
        <link rel="stylesheet" href="/static/app.css">
        </head>
        <body class="print-page">
        <main>
          <h1>TwoStep recovery codes</h1>
          <p>For <strong>{{email}}</strong> · printed {{date}}</p>
          <ol class="codes print-codes">
            {{#codes}}<li><code>{{.}}</code> <span class="box" aria-hidden="true"></span></li>{{/codes}}
          </ol>
          <p>Each code works once, in place of the security code from your phone. Tick a code off when you use it.</p>
          <p><strong>Store this page somewhere safe</strong>, away from your phone and computer. Anyone holding it and your password can sign in. Generating new codes makes these stop working.</p>
          <p class="no-print"><a href="/profile/two-factor/recovery-codes">Back</a> · Use your browser’s Print command (Ctrl+P or ⌘P).</p>
        </main>
        </body>
        </html>
        """

    static let confirm = """
        {{<layout}}{{$body}}
        <div class="with-menu">
        {{>menu}}
        <section class="card">
          <h1>Confirm it’s you</h1>
          <p>This change needs your password (or a security code) again. You won’t be asked again for 10 minutes.</p>
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          <form method="post" action="/profile/confirm">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <input type="hidden" name="next" value="{{next}}">
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" autofocus>
            <label for="code">or security code</label>
            <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="12">
            <button type="submit">Confirm</button>
          </form>
        </section>
        </div>
        {{/body}}{{/layout}}
        """
}

extension Templates {
    static let phone = """
        {{<layout}}{{$body}}
        <div class="with-menu">
        {{>menu}}
        <section class="card">
          <h1>{{title}}</h1>
          {{#isSMS}}<p>We will text a 6-digit security code to this number each time you sign in. Delivery depends on your provider; the App method works without a signal.</p>{{/isSMS}}
          {{^isSMS}}<p>If your primary method is not available, you can ask at sign-in for a code sent to this number.</p>{{/isSMS}}
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          <form method="post" action="/profile/two-factor/{{path}}">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <label for="phone">Phone number</label>
            <input id="phone" name="phone" type="tel" autocomplete="tel" required value="{{phoneValue}}" aria-describedby="phone-help">
            <p id="phone-help" class="help">International form, with + and the country code: +31 6 1234 5678.</p>
            <button type="submit">Send code</button>
          </form>
        </section>
        </div>
        {{/body}}{{/layout}}
        """

    static let phoneVerify = """
        {{<layout}}{{$body}}
        <div class="with-menu">
        {{>menu}}
        <section class="card">
          <h1>{{title}}</h1>
          <p>Enter the 6-digit security code we texted to <strong id="masked-phone">{{maskedPhone}}</strong>.</p>
          {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          <form method="post" action="/profile/two-factor/{{path}}/activate">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <label for="code">Security code</label>
            <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="10" required autofocus>
            {{#isSMS}}<label class="check"><input type="checkbox" name="trust" value="on"> Trust this device — don’t ask for a code on this browser for {{trustDays}} days</label>
            <button type="submit">Activate 2-step verification</button>{{/isSMS}}
            {{^isSMS}}<button type="submit">Save recovery phone number</button>{{/isSMS}}
          </form>
          <form method="post" action="/profile/two-factor/{{path}}/resend">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <button type="submit" class="link">Resend code</button>
          </form>
        </section>
        </div>
        {{/body}}{{/layout}}
        """

    static let outbox = """
        {{<layout}}{{$body}}
        <section class="card">
          <h1>SMS outbox (development)</h1>
          <p>Text messages the outbox gateway would have sent, newest first.</p>
          {{#hasMessages}}
          <table>
            <thead><tr><th scope="col">Sent</th><th scope="col">To</th><th scope="col">Purpose</th><th scope="col">Message</th></tr></thead>
            <tbody>{{#messages}}<tr><td>{{when}}</td><td>{{to}}</td><td>{{purpose}}</td><td class="sms-body">{{body}}</td></tr>{{/messages}}</tbody>
          </table>
          {{/hasMessages}}
          {{^hasMessages}}<p>No messages yet.</p>{{/hasMessages}}
        </section>
        {{/body}}{{/layout}}
        """
}
