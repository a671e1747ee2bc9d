import { formatEther } from 'ethers';

/** Wei as ether with at most 6 decimals, trailing zeros dropped: "0.01 ETH". */
export function eth(wei: bigint): string {
  const [whole, fraction = ''] = formatEther(wei).split('.');
  const short = fraction.slice(0, 6).replace(/0+$/, '');
  return `${whole}${short ? `.${short}` : ''} ETH`;
}

export const shortAddress = (a: string) => `${a.slice(0, 6)}…${a.slice(-4)}`;

/** UTF-8 length: what the contract's prompt cap counts. */
export const byteLength = (s: string) => new TextEncoder().encode(s).length;

export const when = (unixSeconds: number) =>
  new Date(unixSeconds * 1000).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** An `ar://id` (or https) URI through the Arweave gateway. */
export function gatewayUrl(uri: string, gateway: string): string {
  return uri.startsWith('ar://') ? `${gateway}/${uri.slice(5)}` : uri.replace(/^ipfs:\/\//, 'https://ipfs.io/ipfs/');
}

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
