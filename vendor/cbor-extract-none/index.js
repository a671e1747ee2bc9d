// cbor-x requires this inside try/catch and decodes in pure JavaScript when it throws.
throw new Error('cbor-extract is not installed: cbor-x uses its pure-JavaScript decoder');
