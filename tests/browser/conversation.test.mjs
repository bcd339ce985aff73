// Scene a: two browser pages and the terminal client talk in one room, and
// each sees the others. The same scene, dressed up a little, is the
// screenshot of the client at desktop and at phone width, written to
// $CHAT_BROWSER_ARTIFACTS; with CHAT_UPDATE_SCREENSHOT=lib/web/screenshot.png
// (an absolute path) the desktop one is copied there too, for the README.

import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import {
  DESKTOP, PHONE, artifactsDirectory, joinRoom, login, openPage, openView, say, sharedScene,
  startTcpClient, waitForMessage,
} from './scene.mjs';

const scene = sharedScene();

test('two pages and a TCP client see each other in one room', async () => {
  const alice = await openPage(scene.browser, scene.server, { viewport: DESKTOP });
  const bob = await openPage(scene.browser, scene.server, { viewport: PHONE });
  await login(alice.page, 'alice');
  await login(bob.page, 'bob');
  const carol = startTcpClient(scene.server, 'carol');
  try {
    await carol.waitForLine('* welcome carol');
    // The pages see the terminal user arrive.
    await alice.page.locator('#scroller li.notice', { hasText: 'carol joined #lobby' }).waitFor();

    await say(alice.page, 'Morning all! Is the build green?');
    await waitForMessage(bob.page, 'alice', 'Morning all! Is the build green?');
    await carol.waitForLine('alice: Morning all! Is the build green?');

    await say(bob.page, 'Green since 9:12, the flaky test is fixed');
    await waitForMessage(alice.page, 'bob', 'Green since 9:12, the flaky test is fixed');
    await carol.waitForLine('bob: Green since 9:12, the flaky test is fixed');

    carol.send('Nice. I am on the terminal client, by the way');
    await waitForMessage(alice.page, 'carol', 'Nice. I am on the terminal client, by the way');
    await waitForMessage(bob.page, 'carol', 'Nice. I am on the terminal client, by the way');

    // Everyone online is listed, with the room's member count.
    const people = await alice.page.locator('#people-list li').allTextContents();
    assert.deepEqual(people.map((p) => p.trim()), ['alice (you)', 'bob', 'carol']);
    assert.equal(await alice.page.locator('#room-list .view-button .count').first().textContent(), '3');

    // A topic set on a page reaches the other page and the terminal.
    await alice.page.getByRole('button', { name: 'Topic' }).click();
    await alice.page.getByLabel('Topic', { exact: true }).fill('release on friday');
    await alice.page.getByRole('button', { name: 'Set' }).click();
    await bob.page.locator('#conversation-topic', { hasText: 'release on friday' }).waitFor();
    await carol.waitForLine('* alice set the topic of lobby: release on friday');

    await say(bob.page, 'Then let us ship it');
    carol.send('+1, tagging after lunch');
    await waitForMessage(alice.page, 'carol', '+1, tagging after lunch');
    await waitForMessage(alice.page, 'bob', 'Then let us ship it');

    // A second room, and a message there, makes an unread count in the first page.
    await joinRoom(bob.page, 'dev');
    await say(bob.page, 'Moving the release notes to #dev');
    // The room list shows the new room (asked again when the page is focused).
    await alice.page.getByRole('button', { name: 'Refresh' }).click();
    await alice.page.locator('#directory-list .view-button', { hasText: '#dev' }).waitFor();
    await joinRoom(alice.page, 'dev');
    await waitForMessage(alice.page, 'bob', 'Moving the release notes to #dev');
    await openView(alice.page, '#lobby');
    await say(bob.page, 'Draft is up: docs/release-notes.md');
    await alice.page.locator('#room-list .view-button', { hasText: '#dev' }).locator('.badge', { hasText: '1' }).waitFor();
    assert.match(await alice.page.title(), /^\(1\) chat$/);
    carol.send('/msg alice lunch at 12:30?');
    await alice.page.locator('#dm-list .view-button', { hasText: 'carol' }).locator('.badge', { hasText: '1' }).waitFor();
    assert.match(await alice.page.title(), /^\(2\) chat$/);

    // The phone-width page: the sidebar is folded away, nothing overflows.
    assert.equal(await bob.page.locator('#sidebar').isVisible(), false);
    const overflow = await bob.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the phone layout is ${overflow}px wider than the screen`);
    await openPhoneSidebar(bob.page);
    await bob.page.locator('#room-list .view-button', { hasText: '#lobby' }).click();
    assert.equal(await bob.page.locator('#sidebar').isVisible(), false, 'choosing a room folds the sidebar');
    await waitForMessage(bob.page, 'carol', '+1, tagging after lunch');

    const artifacts = await artifactsDirectory();
    const desktopShot = path.join(artifacts, 'web-client.png');
    await alice.page.screenshot({ path: desktopShot });
    await bob.page.screenshot({ path: path.join(artifacts, 'web-client-phone.png') });
    await openPhoneSidebar(bob.page);
    await bob.page.screenshot({ path: path.join(artifacts, 'web-client-phone-rooms.png') });
    if (process.env.CHAT_UPDATE_SCREENSHOT) await copyFile(desktopShot, process.env.CHAT_UPDATE_SCREENSHOT);

    assert.deepEqual(alice.problems, []);
    assert.deepEqual(bob.problems, []);
  } finally {
    await carol.close();
    await alice.context.close();
    await bob.context.close();
  }
});

async function openPhoneSidebar(page) {
  const toggle = page.getByRole('button', { name: /^Rooms/ });
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  await page.locator('#sidebar').waitFor({ state: 'visible' });
}
