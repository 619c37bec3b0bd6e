// TracPro: small helpers only. Everything works without JavaScript except the
// passkey ceremony (see passkeys below).
"use strict";
