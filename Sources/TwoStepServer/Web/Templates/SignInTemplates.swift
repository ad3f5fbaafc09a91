extension Templates {
    static let signUp = """
        {{<layout}}{{$body}}
        <section class="card narrow">
          <h1>Create your account</h1>
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          <form method="post" action="/signup">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <label for="email">E-mail address</label>
            <input id="email" name="email" type="email" autocomplete="username" required value="{{emailValue}}">
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="new-password" required minlength="8" maxlength="128" aria-describedby="password-help">
            <p id="password-help" class="help">At least 8 characters. A long passphrase is best.</p>
            <button type="submit">Create account</button>
          </form>
          <p>Already have an account? <a href="/signin">Sign in</a></p>
        </section>
        {{/body}}{{/layout}}
        """

    static let signIn = """
        {{<layout}}{{$body}}
        <section class="card narrow">
          <h1>Sign in</h1>
          {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          <form method="post" action="/signin">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <label for="email">E-mail address</label>
            <input id="email" name="email" type="email" autocomplete="username" required value="{{emailValue}}">
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required>
            <button type="submit">Sign in</button>
          </form>
          <p>New here? <a href="/signup">Create an account</a></p>
        </section>
        {{/body}}{{/layout}}
        """

    static let securityCode = """
        {{<layout}}{{$body}}
        <section class="card narrow">
          <h1>Security code</h1>
          {{#hasApp}}<p>Enter the 6-digit code from the authenticator app on your phone for <strong>{{email}}</strong>.</p>{{/hasApp}}
          {{#smsPhone}}<p>We text a 6-digit code to <strong>{{smsPhone}}</strong> for <strong>{{email}}</strong>.</p>
          <form method="post" action="/signin/sms">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <button type="submit" class="small">{{#smsSent}}Resend code{{/smsSent}}{{^smsSent}}Send code{{/smsSent}}</button>
          </form>{{/smsPhone}}
          {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          <form method="post" action="/signin/code">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <label for="code">Security code</label>
            <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="10" required autofocus>
            <label class="check"><input type="checkbox" name="trust" value="on"> Trust this device for {{trustDays}} days</label>
            <button type="submit">Verify</button>
          </form>
          <h2>Can’t get a code?</h2>
          {{#recoveryPhone}}
          <form method="post" action="/signin/recovery-phone">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <button type="submit" class="link">Send a code to my recovery phone ({{recoveryPhone}})</button>
          </form>
          {{/recoveryPhone}}
          <p><a href="/signin/recovery">Use a recovery code</a></p>
          <form method="post" action="/signout">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <button type="submit" class="link">Cancel and sign out</button>
          </form>
        </section>
        {{/body}}{{/layout}}
        """

    static let recoverySignIn = """
        {{<layout}}{{$body}}
        <section class="card narrow">
          <h1>Use a recovery code</h1>
          <p>Lost your phone? Enter one of the recovery codes you saved for <strong>{{email}}</strong>. Each code works once.</p>
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          <form method="post" action="/signin/recovery">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <label for="code">Recovery code</label>
            <input id="code" name="code" type="text" autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="16" required autofocus aria-describedby="code-help">
            <p id="code-help" class="help">Like k7dpx-3mq2a; the dash and capitals don’t matter.</p>
            <button type="submit">Verify</button>
          </form>
          <p><a href="/signin/code">Use the app’s security code instead</a></p>
        </section>
        {{/body}}{{/layout}}
        """
}
