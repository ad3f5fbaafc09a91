/// The API's OpenAPI 3.1 description, served at `/api/v1/openapi.json`. It is written by hand to
/// match the controllers; `OpenAPITests` fails when a route is missing from it or it names one
/// that does not exist, and `.ci/run` fuzzes the server against it with schemathesis.
enum OpenAPIDocument {
    static let json = #"""
        {
          "openapi": "3.1.0",
          "info": {
            "title": "TwoStep API",
            "version": "1.0.0",
            "description": "Account holders use a bearer session token from POST /api/v1/session; relying services use an API key from `twostep apikey create`. Every error is {\"error\": {\"code\", \"message\"}}."
          },
          "servers": [
            {
              "url": "/"
            }
          ],
          "paths": {
            "/api/v1/openapi.json": {
              "get": {
                "summary": "This document",
                "tags": [
                  "meta"
                ],
                "responses": {
                  "200": {
                    "description": "The OpenAPI document.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object"
                        }
                      }
                    }
                  }
                },
                "security": []
              }
            },
            "/api/v1/account": {
              "post": {
                "summary": "Sign up",
                "tags": [
                  "account"
                ],
                "responses": {
                  "201": {
                    "description": "Signed up and signed in.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/SessionResult"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The body is not a JSON object.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "409": {
                    "description": "The e-mail address is taken.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "413": {
                    "description": "The body is larger than 64 KiB.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "422": {
                    "description": "A field is missing, has the wrong type or is not valid.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/SignUp"
                      }
                    }
                  }
                }
              },
              "get": {
                "summary": "The account and its two-factor status",
                "tags": [
                  "account"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Account"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "session": []
                  }
                ]
              }
            },
            "/api/v1/session": {
              "post": {
                "summary": "Sign in with the password",
                "tags": [
                  "sign-in"
                ],
                "responses": {
                  "200": {
                    "description": "Signed in, or a second factor is required.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/SessionResult"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The body is not a JSON object.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "Wrong e-mail address or password.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "413": {
                    "description": "The body is larger than 64 KiB.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "422": {
                    "description": "A field is missing, has the wrong type or is not valid.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/Credentials"
                      }
                    }
                  }
                }
              },
              "delete": {
                "summary": "Sign out",
                "tags": [
                  "sign-in"
                ],
                "responses": {
                  "204": {
                    "description": "Done."
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "session": []
                  }
                ]
              }
            },
            "/api/v1/session/sms": {
              "post": {
                "summary": "Text a sign-in code to the SMS phone or the recovery phone",
                "tags": [
                  "sign-in"
                ],
                "responses": {
                  "202": {
                    "description": "The code is on its way.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Sent"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The body is not a JSON object.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "Unknown or expired challenge.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "409": {
                    "description": "The account has no such phone.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "413": {
                    "description": "The body is larger than 64 KiB.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "422": {
                    "description": "A field is missing, has the wrong type or is not valid.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "429": {
                    "description": "An SMS limit stops this message.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "headers": {
                      "Retry-After": {
                        "description": "Seconds to wait.",
                        "schema": {
                          "type": "integer"
                        }
                      }
                    }
                  },
                  "502": {
                    "description": "The SMS gateway failed; nothing was counted.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/SendSignInCode"
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/session/second-factor": {
              "post": {
                "summary": "Complete sign-in with a code",
                "tags": [
                  "sign-in"
                ],
                "responses": {
                  "200": {
                    "description": "Signed in.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/SessionResult"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The body is not a JSON object.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "Wrong or already used code, or no valid token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "Codes are locked for this account (100 failures).",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "413": {
                    "description": "The body is larger than 64 KiB.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "422": {
                    "description": "A field is missing, has the wrong type or is not valid.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "429": {
                    "description": "Too many wrong codes: wait.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "headers": {
                      "Retry-After": {
                        "description": "Seconds to wait.",
                        "schema": {
                          "type": "integer"
                        }
                      }
                    }
                  }
                },
                "security": [],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/SecondFactor"
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/account/password": {
              "post": {
                "summary": "Change the password (forgets trusted devices)",
                "tags": [
                  "account"
                ],
                "responses": {
                  "204": {
                    "description": "Done."
                  },
                  "400": {
                    "description": "The body is not a JSON object.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "Wrong current password, or no valid token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "413": {
                    "description": "The body is larger than 64 KiB.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "422": {
                    "description": "A field is missing, has the wrong type or is not valid.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "session": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/PasswordChange"
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/account/reauthenticate": {
              "post": {
                "summary": "Confirm it's you: 10 minutes for sensitive changes",
                "tags": [
                  "account"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Reauthenticated"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The body is not a JSON object.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "Wrong or already used code, or no valid token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "Codes are locked for this account (100 failures).",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "413": {
                    "description": "The body is larger than 64 KiB.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "422": {
                    "description": "A field is missing, has the wrong type or is not valid.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "429": {
                    "description": "Too many wrong codes: wait.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "headers": {
                      "Retry-After": {
                        "description": "Seconds to wait.",
                        "schema": {
                          "type": "integer"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "session": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/Proof"
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/account/two-factor": {
              "get": {
                "summary": "Two-factor status",
                "tags": [
                  "two-factor"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/TwoFactorStatus"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "session": []
                  }
                ]
              }
            },
            "/api/v1/account/two-factor/app": {
              "post": {
                "summary": "Start enabling the authenticator app",
                "tags": [
                  "two-factor"
                ],
                "responses": {
                  "201": {
                    "description": "A new key (or the pending one).",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Enrolment"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "409": {
                    "description": "Two-factor authentication is already on.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "session": []
                  }
                ]
              }
            },
            "/api/v1/account/two-factor/app/confirm": {
              "post": {
                "summary": "Enable the app with its current code",
                "tags": [
                  "two-factor"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Enabled"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The body is not a JSON object.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "409": {
                    "description": "No enrolment is pending.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "413": {
                    "description": "The body is larger than 64 KiB.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "422": {
                    "description": "A field is missing, has the wrong type or is not valid.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "session": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/Confirm"
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/account/two-factor/sms": {
              "post": {
                "summary": "Start enabling SMS: texts a code",
                "tags": [
                  "two-factor"
                ],
                "responses": {
                  "202": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Sent"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The body is not a JSON object.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "409": {
                    "description": "Two-factor authentication is already on.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "413": {
                    "description": "The body is larger than 64 KiB.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "422": {
                    "description": "A field is missing, has the wrong type or is not valid.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "429": {
                    "description": "An SMS limit stops this message.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "headers": {
                      "Retry-After": {
                        "description": "Seconds to wait.",
                        "schema": {
                          "type": "integer"
                        }
                      }
                    }
                  },
                  "502": {
                    "description": "The SMS gateway failed.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "session": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/Phone"
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/account/two-factor/sms/confirm": {
              "post": {
                "summary": "Enable SMS with the texted code",
                "tags": [
                  "two-factor"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Enabled"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The body is not a JSON object.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "409": {
                    "description": "No enrolment is pending.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "413": {
                    "description": "The body is larger than 64 KiB.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "422": {
                    "description": "A field is missing, has the wrong type or is not valid.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "session": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/Confirm"
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/account/two-factor/disable": {
              "post": {
                "summary": "Disable two-factor authentication (password or code)",
                "tags": [
                  "two-factor"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Enabled"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The body is not a JSON object.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "Wrong or already used code, or no valid token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "Codes are locked for this account (100 failures).",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "413": {
                    "description": "The body is larger than 64 KiB.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "422": {
                    "description": "A field is missing, has the wrong type or is not valid.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "429": {
                    "description": "Too many wrong codes: wait.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "headers": {
                      "Retry-After": {
                        "description": "Seconds to wait.",
                        "schema": {
                          "type": "integer"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "session": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/Proof"
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/account/recovery-phone": {
              "post": {
                "summary": "Add or change the recovery phone: texts a code",
                "tags": [
                  "recovery"
                ],
                "responses": {
                  "202": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Sent"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The body is not a JSON object.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "Re-authenticate first (POST /api/v1/account/reauthenticate), or the action is not allowed.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "413": {
                    "description": "The body is larger than 64 KiB.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "422": {
                    "description": "A field is missing, has the wrong type or is not valid.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "429": {
                    "description": "An SMS limit stops this message.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "headers": {
                      "Retry-After": {
                        "description": "Seconds to wait.",
                        "schema": {
                          "type": "integer"
                        }
                      }
                    }
                  },
                  "502": {
                    "description": "The SMS gateway failed.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "session": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/Phone"
                      }
                    }
                  }
                }
              },
              "delete": {
                "summary": "Remove the recovery phone",
                "tags": [
                  "recovery"
                ],
                "responses": {
                  "204": {
                    "description": "Done."
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "Re-authenticate first (POST /api/v1/account/reauthenticate), or the action is not allowed.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "No recovery phone.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "session": []
                  }
                ]
              }
            },
            "/api/v1/account/recovery-phone/confirm": {
              "post": {
                "summary": "Confirm the recovery phone with the texted code",
                "tags": [
                  "recovery"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Enabled"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The body is not a JSON object.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "409": {
                    "description": "No phone is pending.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "413": {
                    "description": "The body is larger than 64 KiB.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "422": {
                    "description": "A field is missing, has the wrong type or is not valid.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "session": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/Confirm"
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/account/recovery-codes": {
              "post": {
                "summary": "Generate 10 recovery codes, replacing the old set",
                "tags": [
                  "recovery"
                ],
                "responses": {
                  "201": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/RecoveryCodes"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "Re-authenticate first (POST /api/v1/account/reauthenticate), or the action is not allowed.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "409": {
                    "description": "Two-factor authentication is off.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "session": []
                  }
                ]
              },
              "get": {
                "summary": "Show the unused recovery codes",
                "tags": [
                  "recovery"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/RecoveryCodes"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "Re-authenticate first (POST /api/v1/account/reauthenticate), or the action is not allowed.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "session": []
                  }
                ]
              }
            },
            "/api/v1/account/recovery-codes/status": {
              "get": {
                "summary": "How many recovery codes are left",
                "tags": [
                  "recovery"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/RecoveryCodeStatus"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "session": []
                  }
                ]
              }
            },
            "/api/v1/account/trusted-devices": {
              "get": {
                "summary": "Trusted devices",
                "tags": [
                  "devices"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Devices"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "session": []
                  }
                ]
              },
              "delete": {
                "summary": "Revoke every trusted device",
                "tags": [
                  "devices"
                ],
                "responses": {
                  "204": {
                    "description": "Done."
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "session": []
                  }
                ]
              }
            },
            "/api/v1/account/trusted-devices/{id}": {
              "delete": {
                "summary": "Revoke one trusted device",
                "tags": [
                  "devices"
                ],
                "responses": {
                  "204": {
                    "description": "Done."
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "No such device.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "session": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "integer",
                      "format": "int64"
                    }
                  }
                ]
              }
            },
            "/api/v1/account/events": {
              "get": {
                "summary": "Security activity, newest first",
                "tags": [
                  "account"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Events"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "session": []
                  }
                ]
              }
            },
            "/api/v1/validate": {
              "post": {
                "summary": "Check a user's code (app, SMS or recovery code)",
                "tags": [
                  "service"
                ],
                "responses": {
                  "200": {
                    "description": "valid true, or false for a wrong or reused code.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ValidateResult"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The body is not a JSON object.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "Codes are locked for this user (100 failures).",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "No such user.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "413": {
                    "description": "The body is larger than 64 KiB.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "422": {
                    "description": "A field is missing, has the wrong type or is not valid.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "429": {
                    "description": "Too many wrong codes: wait.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "headers": {
                      "Retry-After": {
                        "description": "Seconds to wait.",
                        "schema": {
                          "type": "integer"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "apiKey": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/Validate"
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/users": {
              "post": {
                "summary": "Create a user, optionally importing an app key",
                "tags": [
                  "service"
                ],
                "responses": {
                  "201": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/User"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The body is not a JSON object.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "409": {
                    "description": "The e-mail address is taken.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "413": {
                    "description": "The body is larger than 64 KiB.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "422": {
                    "description": "A field is missing, has the wrong type or is not valid.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "apiKey": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/NewUser"
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/users/{user}": {
              "get": {
                "summary": "A user's two-factor status",
                "tags": [
                  "service"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/User"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "No such user.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "apiKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "user",
                    "in": "path",
                    "required": true,
                    "description": "The user's e-mail address.",
                    "schema": {
                      "type": "string"
                    }
                  }
                ]
              }
            },
            "/api/v1/users/{user}/totp": {
              "post": {
                "summary": "Start enrolling the user's authenticator app",
                "tags": [
                  "service"
                ],
                "responses": {
                  "201": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Enrolment"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "No such user.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "409": {
                    "description": "Two-factor authentication is already on.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "apiKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "user",
                    "in": "path",
                    "required": true,
                    "description": "The user's e-mail address.",
                    "schema": {
                      "type": "string"
                    }
                  }
                ]
              }
            },
            "/api/v1/users/{user}/totp/confirm": {
              "post": {
                "summary": "Enable the app with its current code",
                "tags": [
                  "service"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Enabled"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The body is not a JSON object.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "No such user.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "409": {
                    "description": "No enrolment is pending.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "413": {
                    "description": "The body is larger than 64 KiB.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "422": {
                    "description": "A field is missing, has the wrong type or is not valid.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "apiKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "user",
                    "in": "path",
                    "required": true,
                    "description": "The user's e-mail address.",
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/Code"
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/users/{user}/sms": {
              "post": {
                "summary": "Text the user a sign-in code",
                "tags": [
                  "service"
                ],
                "responses": {
                  "202": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Sent"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The body is not a JSON object.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "No such user.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "409": {
                    "description": "The user has no such phone.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "413": {
                    "description": "The body is larger than 64 KiB.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "422": {
                    "description": "A field is missing, has the wrong type or is not valid.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "429": {
                    "description": "An SMS limit stops this message.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "headers": {
                      "Retry-After": {
                        "description": "Seconds to wait.",
                        "schema": {
                          "type": "integer"
                        }
                      }
                    }
                  },
                  "502": {
                    "description": "The SMS gateway failed.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "apiKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "user",
                    "in": "path",
                    "required": true,
                    "description": "The user's e-mail address.",
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/SendSMS"
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/users/{user}/recovery-codes": {
              "post": {
                "summary": "Generate the user's 10 recovery codes",
                "tags": [
                  "service"
                ],
                "responses": {
                  "201": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/RecoveryCodes"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No valid bearer token.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "No such user.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "409": {
                    "description": "Two-factor authentication is off.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "apiKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "user",
                    "in": "path",
                    "required": true,
                    "description": "The user's e-mail address.",
                    "schema": {
                      "type": "string"
                    }
                  }
                ]
              }
            }
          },
          "components": {
            "schemas": {
              "Error": {
                "type": "object",
                "properties": {
                  "error": {
                    "type": "object",
                    "properties": {
                      "code": {
                        "type": [
                          "string",
                          "null"
                        ]
                      },
                      "message": {
                        "type": [
                          "string",
                          "null"
                        ]
                      },
                      "retry_at": {
                        "type": "string",
                        "format": "date-time"
                      }
                    },
                    "required": [
                      "code",
                      "message"
                    ]
                  }
                },
                "required": [
                  "error"
                ]
              },
              "SignUp": {
                "type": "object",
                "properties": {
                  "email": {
                    "type": "string",
                    "format": "email",
                    "maxLength": 254
                  },
                  "password": {
                    "type": "string",
                    "minLength": 8,
                    "maxLength": 128
                  }
                },
                "required": [
                  "email",
                  "password"
                ]
              },
              "Credentials": {
                "type": "object",
                "properties": {
                  "email": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "password": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "device_token": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "description": "A device token from an earlier sign-in with trust_device: skips the second factor for 30 days."
                  }
                },
                "required": [
                  "email",
                  "password"
                ]
              },
              "SessionResult": {
                "type": "object",
                "properties": {
                  "status": {
                    "type": "string",
                    "enum": [
                      "authenticated",
                      "second_factor_required"
                    ]
                  },
                  "token": {
                    "type": "string",
                    "description": "The bearer session token (when authenticated)."
                  },
                  "challenge": {
                    "type": "string",
                    "description": "Pass to /session/second-factor (when a second factor is required)."
                  },
                  "methods": {
                    "type": "array",
                    "items": {
                      "type": "string",
                      "enum": [
                        "app",
                        "sms",
                        "recovery_phone",
                        "recovery_code"
                      ]
                    }
                  },
                  "expires_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "method": {
                    "type": "string",
                    "enum": [
                      "app",
                      "sms",
                      "recovery_phone",
                      "recovery_code"
                    ]
                  },
                  "device_token": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "recovery_codes_remaining": {
                    "type": "integer"
                  }
                },
                "required": [
                  "status"
                ]
              },
              "SendSignInCode": {
                "type": "object",
                "properties": {
                  "challenge": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "to": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "enum": [
                      "sms",
                      "recovery_phone",
                      null
                    ],
                    "default": "sms"
                  }
                },
                "required": [
                  "challenge"
                ]
              },
              "SecondFactor": {
                "type": "object",
                "properties": {
                  "challenge": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "code": {
                    "type": "string",
                    "description": "An app or SMS code, or a recovery code."
                  },
                  "trust_device": {
                    "type": [
                      "boolean",
                      "null"
                    ]
                  }
                },
                "required": [
                  "challenge",
                  "code"
                ]
              },
              "Sent": {
                "type": "object",
                "properties": {
                  "sent_to": {
                    "type": "string",
                    "description": "The number, masked."
                  },
                  "expires_at": {
                    "type": "string",
                    "format": "date-time"
                  }
                },
                "required": [
                  "sent_to",
                  "expires_at"
                ]
              },
              "RecoveryCodeStatus": {
                "type": "object",
                "properties": {
                  "remaining": {
                    "type": "integer"
                  },
                  "total": {
                    "type": "integer"
                  },
                  "generated_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "low": {
                    "type": "boolean",
                    "description": "3 or fewer left."
                  }
                },
                "required": [
                  "remaining",
                  "total",
                  "low"
                ]
              },
              "TwoFactorStatus": {
                "type": "object",
                "properties": {
                  "enabled": {
                    "type": [
                      "boolean",
                      "null"
                    ]
                  },
                  "method": {
                    "type": "string",
                    "enum": [
                      "app",
                      "sms"
                    ]
                  },
                  "sms_phone": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "recovery_phone": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "recovery_codes": {
                    "$ref": "#/components/schemas/RecoveryCodeStatus"
                  },
                  "trusted_devices": {
                    "type": "integer"
                  }
                },
                "required": [
                  "enabled",
                  "recovery_codes",
                  "trusted_devices"
                ]
              },
              "Account": {
                "type": "object",
                "properties": {
                  "email": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "created_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "two_factor": {
                    "$ref": "#/components/schemas/TwoFactorStatus"
                  }
                },
                "required": [
                  "email",
                  "created_at",
                  "two_factor"
                ]
              },
              "User": {
                "type": "object",
                "properties": {
                  "email": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "created_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "two_factor": {
                    "$ref": "#/components/schemas/TwoFactorStatus"
                  }
                },
                "required": [
                  "email",
                  "created_at",
                  "two_factor"
                ]
              },
              "PasswordChange": {
                "type": "object",
                "properties": {
                  "current": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "new": {
                    "type": "string",
                    "minLength": 8,
                    "maxLength": 128
                  }
                },
                "required": [
                  "current",
                  "new"
                ]
              },
              "Proof": {
                "type": "object",
                "properties": {
                  "password": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "code": {
                    "type": [
                      "string",
                      "null"
                    ]
                  }
                }
              },
              "Reauthenticated": {
                "type": "object",
                "properties": {
                  "reauthenticated_until": {
                    "type": "string",
                    "format": "date-time"
                  }
                },
                "required": [
                  "reauthenticated_until"
                ]
              },
              "Enrolment": {
                "type": "object",
                "properties": {
                  "secret": {
                    "type": "string",
                    "description": "Base32, for typing into an app."
                  },
                  "uri": {
                    "type": "string",
                    "description": "otpauth://totp/… for the QR code."
                  },
                  "qr_svg": {
                    "type": "string",
                    "description": "The URI as an SVG QR code."
                  },
                  "expires_at": {
                    "type": "string",
                    "format": "date-time"
                  }
                },
                "required": [
                  "secret",
                  "uri",
                  "qr_svg",
                  "expires_at"
                ]
              },
              "Confirm": {
                "type": "object",
                "properties": {
                  "code": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "trust_device": {
                    "type": [
                      "boolean",
                      "null"
                    ]
                  }
                },
                "required": [
                  "code"
                ]
              },
              "Code": {
                "type": "object",
                "properties": {
                  "code": {
                    "type": [
                      "string",
                      "null"
                    ]
                  }
                },
                "required": [
                  "code"
                ]
              },
              "Enabled": {
                "type": "object",
                "properties": {
                  "enabled": {
                    "type": [
                      "boolean",
                      "null"
                    ]
                  },
                  "device_token": {
                    "type": [
                      "string",
                      "null"
                    ]
                  }
                },
                "required": [
                  "enabled"
                ]
              },
              "Phone": {
                "type": "object",
                "properties": {
                  "phone": {
                    "type": "string",
                    "pattern": "^\\+[1-9][0-9]{7,14}$",
                    "description": "E.164, e.g. +31612345678."
                  }
                },
                "required": [
                  "phone"
                ]
              },
              "RecoveryCodes": {
                "type": "object",
                "properties": {
                  "codes": {
                    "type": "array",
                    "items": {
                      "type": [
                        "string",
                        "null"
                      ]
                    }
                  }
                },
                "required": [
                  "codes"
                ]
              },
              "Devices": {
                "type": "object",
                "properties": {
                  "devices": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "id": {
                          "type": "integer"
                        },
                        "browser": {
                          "type": [
                            "string",
                            "null"
                          ]
                        },
                        "created_at": {
                          "type": "string",
                          "format": "date-time"
                        },
                        "last_used_at": {
                          "type": "string",
                          "format": "date-time"
                        },
                        "expires_at": {
                          "type": "string",
                          "format": "date-time"
                        }
                      },
                      "required": [
                        "id",
                        "browser",
                        "created_at",
                        "last_used_at",
                        "expires_at"
                      ]
                    }
                  }
                },
                "required": [
                  "devices"
                ]
              },
              "Events": {
                "type": "object",
                "properties": {
                  "events": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "kind": {
                          "type": [
                            "string",
                            "null"
                          ]
                        },
                        "detail": {
                          "type": [
                            "string",
                            "null"
                          ]
                        },
                        "at": {
                          "type": "string",
                          "format": "date-time"
                        }
                      },
                      "required": [
                        "kind",
                        "detail",
                        "at"
                      ]
                    }
                  }
                },
                "required": [
                  "events"
                ]
              },
              "NewUser": {
                "type": "object",
                "properties": {
                  "email": {
                    "type": "string",
                    "format": "email",
                    "maxLength": 254
                  },
                  "password": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "minLength": 8,
                    "maxLength": 128,
                    "description": "Leave out when the relying service checks passwords itself."
                  },
                  "totp": {
                    "type": [
                      "object",
                      "null"
                    ],
                    "properties": {
                      "secret": {
                        "type": "string",
                        "pattern": "^([A-Z2-7]{8}){2,25}$",
                        "description": "Base32 key the user's app already has (10–128 bytes)."
                      },
                      "algorithm": {
                        "type": [
                          "string",
                          "null"
                        ],
                        "enum": [
                          "sha1",
                          "sha256",
                          "sha512",
                          null
                        ],
                        "default": "sha1"
                      },
                      "digits": {
                        "type": [
                          "integer",
                          "null"
                        ],
                        "enum": [
                          6,
                          7,
                          8,
                          null
                        ],
                        "default": 6
                      },
                      "period": {
                        "type": [
                          "integer",
                          "null"
                        ],
                        "enum": [
                          30,
                          60,
                          null
                        ],
                        "default": 30
                      }
                    },
                    "required": [
                      "secret"
                    ]
                  }
                },
                "required": [
                  "email"
                ]
              },
              "SendSMS": {
                "type": "object",
                "properties": {
                  "to": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "enum": [
                      "sms",
                      "recovery_phone",
                      null
                    ],
                    "default": "sms"
                  }
                }
              },
              "Validate": {
                "type": "object",
                "properties": {
                  "user": {
                    "type": "string",
                    "description": "The user's e-mail address."
                  },
                  "code": {
                    "type": "string",
                    "maxLength": 64
                  }
                },
                "required": [
                  "user",
                  "code"
                ]
              },
              "ValidateResult": {
                "type": "object",
                "properties": {
                  "valid": {
                    "type": [
                      "boolean",
                      "null"
                    ]
                  },
                  "method": {
                    "type": "string",
                    "enum": [
                      "app",
                      "sms",
                      "recovery_phone",
                      "recovery_code"
                    ]
                  },
                  "recovery_codes_remaining": {
                    "type": "integer"
                  }
                },
                "required": [
                  "valid"
                ]
              }
            },
            "securitySchemes": {
              "session": {
                "type": "http",
                "scheme": "bearer",
                "description": "An account holder's session token."
              },
              "apiKey": {
                "type": "http",
                "scheme": "bearer",
                "description": "A relying service's key (tsk_…)."
              }
            }
          }
        }
        """#
}
