// `npm run emulator`: flag parsing, and the real process printing its URL and stopping on SIGINT.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCli } from '#emulator/cli';

describe('parseCli', () => {
  it('reads every flag, with repeated API keys', () => {
    expect(
      parseCli([
        '--port',
        '8123',
        '--api-key',
        'SG_aaaaaaaaaaaaaaaa',
        '--api-key',
        'SG_bbbbbbbbbbbbbbbb',
        '--time-scale',
        '60',
        '--seed',
        '42',
        '--credits',
        '5',
        '--rate-limit',
        '5',
        '--cache-dir',
        '/tmp/x',
      ]),
    ).toEqual({
      port: 8123,
      apiKeys: ['SG_aaaaaaaaaaaaaaaa', 'SG_bbbbbbbbbbbbbbbb'],
      timeScale: 60,
      seed: 42,
      credits: 5,
      rateLimitPerMinute: 5,
      cacheDir: '/tmp/x',
    });
  });

  it('defaults to nothing, and knows --help', () => {
    expect(parseCli(['--image-host', '127.0.0.1:4569', '--image-host', '[::1]:9000'])).toEqual({
      allowedImageHosts: ['127.0.0.1:4569', '[::1]:9000'],
    });
    expect(parseCli([])).toEqual({});
    expect(parseCli(['--help'])).toBe('help');
  });

  it.each([
    [['--port', 'abc'], /--port/],
    [['--image-host', '127.0.0.1'], /--image-host: "127.0.0.1" is not a host:port pair/],
    [['--port', '70000'], /--port/],
    [['--time-scale', '0'], /--time-scale/],
    [['--seed', '1.5'], /--seed/],
    [['--api-key', ''], /--api-key/],
    [['--bogus'], /bogus/],
    [['stray'], /stray|positional/i],
  ])('refuses %j with a clear message', (argv, message) => {
    expect(() => parseCli(argv)).toThrow(message);
  });
});

describe('the emulator process', () => {
  it('prints its URL, key and a curl example, serves Segmind, and stops cleanly on SIGINT', async () => {
    const cli = fileURLToPath(new URL('../../infra/local/emulator/cli.ts', import.meta.url));
    const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
    const child = spawn(tsx, [cli, '--api-key', 'SG_cafecafecafecafe', '--time-scale', '100'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (match?.[1] && output.includes('Ctrl-C')) resolve(match[1]);
        });
        child.on('exit', (code) => reject(new Error(`emulator exited early (${String(code)}): ${output}`)));
      });
      expect(output).toContain('SG_cafecafecafecafe');
      expect(output).toMatch(/time scale:\s+100/);
      expect(output).toContain(`curl -s -X POST ${url}/v2/ltx-2-fast`);

      const credits = await fetch(`${url}/v1/get-user-credits`, {
        headers: { 'x-api-key': 'SG_cafecafecafecafe' },
      });
      expect(await credits.json()).toEqual({ credits: 100, 'free-credits': 0 });

      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      await expect(fetch(`${url}/v1/get-user-credits`)).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
