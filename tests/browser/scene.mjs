// What every browser test sets up: a chat-server of its own (ports chosen by
// the system, a temporary --data-dir), Debian's Chromium driven by
// playwright-core, pages logged in through the real login form, and the
// bundled terminal client over TCP. Every wait here is bounded.

import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

// Generous for ASan and TSan builds beside other suites, and still bounded.
export const TIMEOUT = 15000;
const START_TIMEOUT = 30000;
const STOP_TIMEOUT = 20000;
// What AddressSanitizer, UndefinedBehaviorSanitizer and ThreadSanitizer
// print: a server built with them fails its browser tests too.
const SANITIZER_REPORT = /ERROR: AddressSanitizer|WARNING: ThreadSanitizer|runtime error:|ERROR: LeakSanitizer/;

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

function requiredBinary(variable) {
  const file = process.env[variable];
  if (!file) throw new Error(`${variable} must name the binary (ctest sets it)`);
  return file;
}

export async function temporaryDirectory(prefix) {
  return mkdtemp(path.join(tmpdir(), prefix));
}

export async function artifactsDirectory() {
  const dir = process.env.CHAT_BROWSER_ARTIFACTS || (await temporaryDirectory('chat-browser-artifacts-'));
  await mkdir(dir, { recursive: true });
  return dir;
}

// ---------------------------------------------------------------- the server

// Starts chat-server and resolves once it says where it listens. Pass the
// ports of an earlier server to start it again on the same ones, and its
// dataDir to keep its history and accounts; memoryOnly: no --data-dir.
export async function startServer({ dataDir, memoryOnly = false, port = 0, httpPort = 0, args = [] } = {}) {
  const ownDir = !dataDir && !memoryOnly;
  if (ownDir) dataDir = await temporaryDirectory('chat-browser-data-');
  const argv = [
    '--port', String(port), '--http-port', String(httpPort),
    ...(memoryOnly ? [] : ['--data-dir', dataDir]),
    // A drain of a second: the page sees the shutdown frame and is then closed.
    '--drain-seconds', '1',
    // Cheap password hashes: the tests log in many times, under sanitizers too.
    ...(memoryOnly ? [] : ['--password-memory', '8M', '--password-ops', '1']),
    ...args,
  ];
  const child = spawn(requiredBinary('CHAT_SERVER'), argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const listening = new Promise((resolve, reject) => {
    const found = {};
    const onData = (chunk) => {
      log += chunk;
      const tcp = /listening on [^\s]*:(\d+)/.exec(log);
      const http = /listening \(http\) on ([^\s]*):(\d+)/.exec(log);
      if (tcp) found.port = Number(tcp[1]);
      if (http) {
        found.host = http[1];
        found.httpPort = Number(http[2]);
      }
      if (found.port && found.httpPort) resolve(found);
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    exited.then(({ code, signal }) => reject(new Error(`chat-server exited (${code ?? signal}) before listening:\n${log}`)));
  });
  const where = await withTimeout(listening, START_TIMEOUT, () => `chat-server did not say where it listens:\n${log}`);

  let stopped = false;
  return {
    ...where,
    dataDir,
    url: `http://${where.host}:${where.httpPort}/`,
    log: () => log,
    exited,
    // SIGTERM drains (--drain-seconds), SIGKILL is a crash.
    async stop(signal = 'SIGTERM') {
      if (stopped) return exited;
      stopped = true;
      child.kill(signal);
      try {
        return await withTimeout(exited, STOP_TIMEOUT, 'timeout');
      } catch {
        child.kill('SIGKILL');
        await exited;
        throw new Error(`chat-server did not stop within ${STOP_TIMEOUT} ms of ${signal}:\n${log}`);
      }
    },
    // Stops the server if still running, and fails if a sanitizer spoke.
    async cleanup() {
      if (!stopped) await this.stop('SIGKILL').catch(() => {});
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
      if (SANITIZER_REPORT.test(log)) throw new Error(`chat-server's sanitizer reported:\n${log}`);
    },
  };
}

// The scene most files need: one server and one browser for the whole file,
// started before its first test and cleaned up after its last. Read
// scene.server and scene.browser inside the tests.
export function sharedScene(serverOptions = {}) {
  const scene = { server: undefined, browser: undefined };
  before(async () => {
    scene.server = await startServer(serverOptions);
    scene.browser = await launchBrowser();
  });
  after(async () => {
    await scene.browser?.close();
    await scene.server?.cleanup();
  });
  return scene;
}

// ---------------------------------------------------------------- the browser

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
    timeout: START_TIMEOUT,
  });
}

// A page in a context of its own (its own storage), which records what
// should never happen: script errors and Content-Security-Policy refusals.
export async function openPage(browser, server, { viewport = DESKTOP } = {}) {
  const context = await browser.newContext({ viewport });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
  });
  await page.goto(server.url);
  return { page, context, problems };
}

// Logs in through the form, as a person would: the name, and a password
// when given (the form shows its field once the server asks, or to register).
export async function login(page, name, { password, register = false } = {}) {
  await page.getByLabel('Your name', { exact: true }).fill(name);
  if (register) await page.getByLabel('Register this name with a password').check();
  if (password && register) await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Enter' }).click();
  if (password && !register) {
    const field = page.getByLabel('Password', { exact: true });
    await field.waitFor({ state: 'visible' });
    await field.fill(password);
    await page.getByRole('button', { name: 'Enter' }).click();
  }
  await expectStatus(page, `Connected as ${name}`);
}

export async function expectStatus(page, text, timeout = TIMEOUT) {
  await page.locator('#status').filter({ hasText: text }).waitFor({ timeout });
}

// Sends a message from the message box and waits for the server's ack.
export async function say(page, text) {
  const box = page.locator('#composer-text');
  await box.fill(text);
  await box.press('Enter');
  await waitForMessage(page, null, text, { mine: true, confirmed: true });
}

// Waits until the view on screen shows a message with exactly this text
// (and sender, unless null). mine: our own; confirmed: acknowledged.
export async function waitForMessage(page, from, text, { mine = false, confirmed = false, timeout = TIMEOUT } = {}) {
  await page.waitForFunction(
    ({ from, text, mine, confirmed }) => [...document.querySelectorAll('#scroller li.message')].some((item) =>
      item.querySelector('.text').textContent === text &&
      (from === null || item.querySelector('.from').textContent === from) &&
      (!mine || item.classList.contains('mine')) &&
      (!confirmed || (item.dataset.id !== undefined && !item.classList.contains('pending')))),
    { from, text, mine, confirmed },
    { timeout },
  );
}

// The texts of the messages on screen, oldest first.
export async function messageTexts(page) {
  return page.locator('#scroller li.message .text').allTextContents();
}

// At phone width the sidebar is folded away behind the Rooms button.
export async function showSidebar(page) {
  if (await page.locator('#sidebar').isVisible()) return;
  await page.getByRole('button', { name: /^Rooms/ }).click();
  await page.locator('#sidebar').waitFor({ state: 'visible' });
}

export async function openView(page, label) {
  await showSidebar(page);
  await page.locator('#sidebar .view-button', { has: page.locator('.view-name', { hasText: label }) })
    .first().click();
  await page.locator('#conversation-title').filter({ hasText: label }).waitFor();
}

export async function joinRoom(page, room) {
  await showSidebar(page);
  await page.getByLabel('Room to join or create').fill(room);
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await page.locator('#conversation-title').filter({ hasText: `#${room}` }).waitFor();
}

// ---------------------------------------------------------------- the terminal client

// chat-client over TCP in its plain form: lines in on stdin, lines out on
// stdout. With a password it logs in to the account (register: creates it);
// json: envelopes out, and lines that start with { sent as they are.
export function startTcpClient(server, name, { password, register = false, json = false } = {}) {
  const argv = ['--host', '127.0.0.1', '--port', String(server.port), '--user', name, '--no-reconnect'];
  if (register) argv.push('--register');
  if (json) argv.push('--json');
  const env = { ...process.env };
  if (password) env.CHAT_PASSWORD = password;
  const child = spawn(requiredBinary('CHAT_CLIENT'), argv, { stdio: ['pipe', 'pipe', 'pipe'], env });
  const lines = [];
  const waiters = new Set();
  const onLine = (line) => {
    lines.push(line);
    for (const waiter of waiters) waiter();
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', (line) => onLine(`(stderr) ${line}`));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    lines,
    send(line) {
      child.stdin.write(line + '\n');
    },
    // Resolves with the first line (seen or to come) that matches.
    waitForLine(pattern, timeout = TIMEOUT) {
      const match = () => lines.find((line) => (typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line)));
      return withTimeout(new Promise((resolve) => {
        const check = () => {
          const line = match();
          if (line !== undefined) {
            waiters.delete(check);
            resolve(line);
          }
        };
        waiters.add(check);
        check();
      }), timeout, () => `chat-client ${name} never printed ${pattern}; it printed:\n${lines.join('\n')}`);
    },
    async close() {
      child.stdin.end('/quit\n');
      await withTimeout(exited, 5000, 'timeout').catch(() => {
        child.kill('SIGKILL');
        return exited;
      });
    },
  };
}

// ---------------------------------------------------------------- small things

export function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function withTimeout(promise, ms, describe) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(typeof describe === 'function' ? describe() : describe)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
