/// The one stylesheet, served at `/static/app.css` (the CSP allows no inline styles or scripts).
enum Stylesheet {
    static let css = """
        :root { --ink: #1d2433; --muted: #4a5468; --line: #d5dae3; --bg: #f4f6f9; --card: #fff;
          --accent: #0b57d0; --accent-ink: #fff; --danger: #b3261e; --ok: #146c2e; }
        * { box-sizing: border-box; }
        button, input { font-family: inherit; }
        form > a { margin-left: 1rem; }
        body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
        .top { display: flex; justify-content: space-between; align-items: center; padding: .75rem 1.5rem; background: #fff; border-bottom: 1px solid var(--line); }
        .brand { font-weight: 700; font-size: 1.2rem; color: var(--ink); text-decoration: none; }
        .who { color: var(--muted); margin-right: .5rem; }
        main { max-width: 64rem; margin: 2rem auto; padding: 0 1rem; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1.5rem 2rem; flex: 1; min-width: 0; }
        .narrow { max-width: 28rem; margin: 0 auto; }
        .with-menu { display: flex; gap: 1.5rem; align-items: flex-start; }
        .side ul { list-style: none; margin: 0; padding: 0; min-width: 14rem; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
        .side a { display: block; padding: .75rem 1rem; color: var(--ink); text-decoration: none; border-left: 4px solid transparent; }
        .side a[aria-current="page"] { border-left-color: var(--accent); font-weight: 600; background: #eef3fd; }
        h1 { font-size: 1.5rem; margin-top: 0; } h2 { font-size: 1.15rem; margin-top: 2rem; }
        label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
        label.check { font-weight: 400; display: flex; gap: .5rem; align-items: center; }
        input[type=email], input[type=password], input[type=text] { width: 100%; padding: .6rem .7rem; font-size: 1rem; border: 1px solid #8a93a6; border-radius: 6px; }
        input:focus, button:focus, a:focus { outline: 3px solid #8ab4f8; outline-offset: 2px; }
        button, .button { display: inline-block; margin-top: 1.25rem; padding: .6rem 1.2rem; font-size: 1rem; font-weight: 600; border: 0; border-radius: 6px;
          background: var(--accent); color: var(--accent-ink); cursor: pointer; text-decoration: none; }
        button.link { background: none; color: var(--accent); padding: 0; margin: 0; font-weight: 400; text-decoration: underline; }
        button.small { margin: 0; padding: .3rem .7rem; font-size: .9rem; }
        .danger, button.danger { background: var(--danger); color: #fff; }
        form.inline { display: inline; }
        .error { color: var(--danger); background: #fcebea; border-left: 4px solid var(--danger); padding: .5rem .75rem; }
        .notice { color: var(--ok); background: #e7f4ea; border-left: 4px solid var(--ok); padding: .5rem .75rem; }
        .warning { background: #fff4e5; border-left: 4px solid #a15c00; padding: .5rem .75rem; }
        .help { color: var(--muted); font-size: .9rem; margin: .25rem 0; }
        .facts { display: grid; grid-template-columns: max-content 1fr; gap: .4rem 1.5rem; }
        .facts dt { color: var(--muted); } .facts dd { margin: 0; }
        .on { color: var(--ok); font-weight: 700; } .off { color: var(--danger); font-weight: 700; }
        .methods { display: flex; gap: 1rem; flex-wrap: wrap; }
        .tile { display: block; width: 16rem; text-align: left; background: #fff; color: var(--ink); border: 2px solid var(--line); padding: 1rem; }
        .tile:hover:not([disabled]) { border-color: var(--accent); }
        .tile[disabled] { opacity: .6; cursor: not-allowed; }
        .tile-title { display: block; font-size: 1.2rem; margin-bottom: .25rem; }
        .tile-text { display: block; font-weight: 400; color: var(--muted); }
        .qr { margin: 1rem 0; } .qr svg { display: block; max-width: 100%; height: auto; }
        .key { font-size: 1.2rem; letter-spacing: .08em; background: var(--bg); padding: .3rem .5rem; border-radius: 4px; }
        table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .5rem; border-bottom: 1px solid var(--line); }
        .events { padding-left: 1.2rem; } .events time { color: var(--muted); margin-right: .5rem; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
        @media (max-width: 40rem) { .with-menu { flex-direction: column; } .side ul { min-width: 0; width: 100%; } .card { padding: 1rem; } }
        .codes { columns: 2; font: 1.2rem/2 ui-monospace, "DejaVu Sans Mono", monospace; padding-left: 2rem; }
        .print-page { background: #fff; } .print-page main { max-width: 40rem; }
        .print-codes .box { display: inline-block; width: .9rem; height: .9rem; border: 1px solid var(--ink); margin-left: .75rem; vertical-align: middle; }
        @media print { .no-print { display: none; } .print-page main { margin: 0; } }
        @media print { .top, .side, button, .button { display: none; } body { background: #fff; } .card { border: 0; } }
        """
}
