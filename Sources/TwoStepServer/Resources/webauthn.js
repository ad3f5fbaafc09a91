// Security keys and passkeys (WebAuthn, issue 17): the one script TwoStep serves, from /static/ (the
// CSP allows script from 'self' only, never inline). No fetch: the page renders an ordinary form whose
// data-options attribute holds the server's options in the WebAuthn Level 3 JSON form; this script runs
// the browser's ceremony when the form is submitted, puts credential.toJSON() in its hidden `credential`
// field and submits it. The server checks everything; nothing here is trusted.
"use strict";

(function () {
    // Base64url (RFC 4648 §5) for browsers without the Level 3 JSON helpers.
    function bytesFromBase64url(text) {
        var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
        while (base64.length % 4) base64 += "=";
        var binary = atob(base64);
        var bytes = new Uint8Array(binary.length);
        for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
        return bytes.buffer;
    }

    function base64urlFromBytes(buffer) {
        var bytes = new Uint8Array(buffer);
        var binary = "";
        for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
        return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    }

    function withIDs(list) {
        return (list || []).map(function (descriptor) {
            return Object.assign({}, descriptor, { id: bytesFromBase64url(descriptor.id) });
        });
    }

    function creationOptions(json) {
        if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(json);
        return Object.assign({}, json, {
            challenge: bytesFromBase64url(json.challenge),
            user: Object.assign({}, json.user, { id: bytesFromBase64url(json.user.id) }),
            excludeCredentials: withIDs(json.excludeCredentials),
        });
    }

    function requestOptions(json) {
        if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(json);
        return Object.assign({}, json, { challenge: bytesFromBase64url(json.challenge), allowCredentials: withIDs(json.allowCredentials) });
    }

    function credentialJSON(credential) {
        if (credential.toJSON) return credential.toJSON();
        var response = credential.response;
        var json = { clientDataJSON: base64urlFromBytes(response.clientDataJSON) };
        if (response.attestationObject) {
            json.attestationObject = base64urlFromBytes(response.attestationObject);
            json.transports = response.getTransports ? response.getTransports() : [];
        } else {
            json.authenticatorData = base64urlFromBytes(response.authenticatorData);
            json.signature = base64urlFromBytes(response.signature);
            if (response.userHandle) json.userHandle = base64urlFromBytes(response.userHandle);
        }
        return {
            id: credential.id,
            rawId: base64urlFromBytes(credential.rawId),
            type: credential.type,
            authenticatorAttachment: credential.authenticatorAttachment || undefined,
            response: json,
            clientExtensionResults: credential.getClientExtensionResults(),
        };
    }

    // What the person can do about each failure (the DOMException names of the WebAuthn spec).
    function describe(error, creating) {
        switch (error && error.name) {
            case "NotAllowedError":
                return "The security key did not answer, or the request was cancelled. Try again when your key is ready.";
            case "InvalidStateError":
                return creating ? "This security key is already added to your account." : "This security key cannot be used here.";
            case "SecurityError":
                // Browsers refuse WebAuthn at an IP address (an RP ID must be a domain): say where it works.
                if (/^[0-9.]+$|^\[/.test(location.hostname)) {
                    return "Security keys do not work at an IP address. Open TwoStep by its name (for example http://localhost:" +
                        (location.port || "80") + ") and try again.";
                }
                return "This page's address does not match the server's. Open TwoStep at its usual address and try again.";
            case "NotSupportedError":
                return "This security key does not support what TwoStep needs. Try another key.";
            default:
                return "Your browser could not use the security key. Try again.";
        }
    }

    function showError(form, message) {
        var box = form.querySelector("[data-webauthn-error]");
        box.textContent = message;
        box.hidden = false;
        box.focus();
    }

    function attach(form) {
        var creating = form.getAttribute("data-webauthn") === "create";
        var field = form.querySelector("input[name=credential]");
        var busy = false;
        form.addEventListener("submit", function (event) {
            event.preventDefault();
            if (busy) return;
            var json;
            try {
                json = JSON.parse(form.getAttribute("data-options"));
            } catch (error) {
                showError(form, "This page is damaged. Reload it and try again.");
                return;
            }
            busy = true;
            form.querySelector("[data-webauthn-error]").hidden = true;
            var buttons = form.querySelectorAll("button");
            buttons.forEach(function (button) { button.disabled = true; });
            var ceremony = creating
                ? navigator.credentials.create({ publicKey: creationOptions(json) })
                : navigator.credentials.get({ publicKey: requestOptions(json) });
            ceremony.then(function (credential) {
                field.value = JSON.stringify(credentialJSON(credential));
                // HTMLFormElement.submit() fires no submit event: this handler does not run again.
                form.submit();
            }).catch(function (error) {
                busy = false;
                buttons.forEach(function (button) { button.disabled = false; });
                showError(form, describe(error, creating));
            });
        });
    }

    function start() {
        var supported = !!(window.PublicKeyCredential && navigator.credentials);
        // Pages say "needs JavaScript" until this runs; then either the forms or "this browser cannot".
        document.querySelectorAll("[data-webauthn-nojs]").forEach(function (element) { element.hidden = true; });
        document.querySelectorAll(supported ? "[data-webauthn-ready]" : "[data-webauthn-unsupported]").forEach(function (element) {
            element.hidden = false;
        });
        if (supported) document.querySelectorAll("form[data-webauthn]").forEach(attach);
    }

    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
    else start();
})();
