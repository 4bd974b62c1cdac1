/** Exit codes of every app: documented in docs/operations.md ("Shutdown") and docs/security.md. */
export const EXIT_SHUTDOWN_TIMEOUT = 1;
export const EXIT_CONFIG = 2;
export const EXIT_STARTUP = 3;
/** The broker kept refusing the app's SASL credentials or TLS certificate (or its certificate is not trusted). */
export const EXIT_KAFKA_ACCESS = 4;
