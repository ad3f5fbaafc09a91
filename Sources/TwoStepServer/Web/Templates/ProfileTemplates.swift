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
              <button type="button" class="tile" disabled><span class="tile-title">SMS</span>
              <span class="tile-text">Receive the code in a text message. Not available yet.</span></button>
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
