// pkce-challenge ships its types behind package "exports", which this tsconfig's
// node resolution does not read; the signature of its default export, as it ships.
declare module 'pkce-challenge' {
  export default function pkceChallenge(
    length?: number,
    method?: 'S256' | 'plain'
  ): Promise<{
    code_verifier: string;
    code_challenge: string;
    code_challenge_method: 'S256' | 'plain';
  }>;
}
