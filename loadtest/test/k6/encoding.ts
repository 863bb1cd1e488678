export default {
  b64decode(input: string, _variant: string, _format: 's'): string {
    return Buffer.from(input, 'base64url').toString('utf8');
  },
};
