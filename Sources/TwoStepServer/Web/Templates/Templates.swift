/// Every template by name. Pages fill the layout's `body` block; `menu` is the profile's left menu.
enum Templates {
    static let all: [String: String] = [
        "layout": layout, "menu": menu,
        "signup": signUp, "signin": signIn, "security-code": securityCode,
        "recovery-sign-in": recoverySignIn,
        "profile": profile, "two-factor": twoFactor, "enable": enable, "app": app, "disable": disable,
        "recovery-codes": recoveryCodes, "recovery-print": recoveryPrint, "confirm": confirm,
        "phone": phone, "phone-verify": phoneVerify, "outbox": outbox,
        "error": error,
    ]

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · TwoStep</title>
        <link rel="stylesheet" href="/static/app.css">
        </head>
        <body>
        <header class="top">
          <a class="brand" href="/">TwoStep</a>
          {{#signedIn}}
          <form method="post" action="/signout" class="inline">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <span class="who">{{email}}</span> <button type="submit" class="link">Sign out</button>
          </form>
          {{/signedIn}}
        </header>
        <main id="main">
        {{$body}}{{/body}}
        </main>
        </body>
        </html>
        """

    static let menu = """
        <nav class="side" aria-label="Profile">
          <ul>
            <li><a href="/profile"{{#menuProfile}} aria-current="page"{{/menuProfile}}>Profile</a></li>
            <li><a href="/profile/two-factor"{{#menuTwoFactor}} aria-current="page"{{/menuTwoFactor}}>Two-Factor Authentication</a></li>
          </ul>
        </nav>
        """

    static let error = """
        {{<layout}}{{$body}}
        <section class="card narrow">
          <h1>{{title}}</h1>
          <p>{{message}}</p>
          <p><a href="/">Back to TwoStep</a></p>
        </section>
        {{/body}}{{/layout}}
        """
}
