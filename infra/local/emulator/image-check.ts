// Segmind downloads the first-frame image itself; an unreachable image (say, an expired presigned URL)
// fails the job. The emulator can only reach loopback, so it checks loopback URLs for real and trusts
// every other URL (tests never leave the machine).

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export const isLoopbackUrl = (url: string): boolean => {
  try {
    return LOOPBACK_HOSTS.has(new URL(url).hostname);
  } catch {
    return false;
  }
};

/** Resolves to an error message when the image cannot be fetched, or undefined when it can. */
export const checkImage = async (url: string, timeoutMs = 10_000): Promise<string | undefined> => {
  if (!isLoopbackUrl(url)) return undefined;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.ok ? undefined : `Failed to download image from the given URL: HTTP ${response.status}`;
  } catch (error) {
    return `Failed to download image from the given URL: ${error instanceof Error ? error.message : String(error)}`;
  }
};
