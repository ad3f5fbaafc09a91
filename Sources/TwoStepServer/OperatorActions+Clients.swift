import Foundation
import TwoStepStore

extension OperatorActions {
    /// `twostep client add`: registers an OpenID Connect client and prints its id, and its secret
    /// this once (only the secret's SHA-256 is kept).
    public func addClient(
        name: String,
        redirectURIs: [String],
        postLogoutRedirectURIs: [String] = [],
        isPublic: Bool,
        twoFactorsRequired: Bool
    ) async throws -> String {
        let result = try await oidc.addClient(
            name: name,
            redirectURIs: redirectURIs,
            postLogoutRedirectURIs: postLogoutRedirectURIs,
            isPublic: isPublic,
            twoFactorsRequired: twoFactorsRequired
        )
        switch result {
        case .success(let new):
            var lines = ["client_id: \(new.client.clientID)"]
            if let secret = new.secret { lines.append("client_secret: \(secret)   (shown this once: store it in the application now)") }
            lines.append(
                new.client.isPublic ? "public client: PKCE with S256 is required" : "confidential client: client_secret_basic or client_secret_post"
            )
            return lines.joined(separator: "\n")
        case .failure(.invalidName): throw OperatorError("a client name is 1 to 64 letters, digits, '.', '_' or '-'")
        case .failure(.nameTaken): throw OperatorError("a client named \(name) already exists")
        case .failure(.noRedirectURI): throw OperatorError("give at least one --redirect-uri")
        case .failure(.invalidRedirectURI(let uri)):
            throw OperatorError("'\(uri)' is not a redirect URI: use https:// (or http:// to 127.0.0.1 or localhost), with no fragment")
        }
    }

    public func listClients() async throws -> [String] {
        ["name\tclient_id\ttype\ttwo factors\tredirect URIs"]
            + (try await oidc.store.oidcClients()).map { client in
                "\(client.name)\t\(client.clientID)\t\(client.isPublic ? "public" : "confidential")\t\(client.twoFactorsRequired ? "required" : "if set up")\t\(client.redirectURIs.joined(separator: " "))"
            }
    }

    public func removeClient(name: String) async throws -> String {
        guard try await oidc.store.deleteOIDCClient(name: name) else { throw OperatorError("no client is named \(name)") }
        return "removed \(name): its codes and access tokens no longer work"
    }
}
