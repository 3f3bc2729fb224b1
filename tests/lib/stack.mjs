// The parts a browser run of the extension alone needs, started together:
// the simulator, the panel stand-in, Chromium with the extension, and a
// panel page to send messages from. For the bench and the tools; the tests
// start what each needs in their own `before`.
import { launchBrowser } from './browser.mjs';
import { startSim } from './sim.mjs';
import { simApi } from './sim-api.mjs';
import { startFakePanel } from './fake-panel.mjs';

export async function startStack({ seed, latencyMs = 0 } = {}) {
  const sim = await startSim({ seed, latencyMs });
  let panel;
  let browser;
  const close = async () => {
    await browser?.close();
    await panel?.close();
    await sim.stop();
  };
  try {
    const api = simApi(sim);
    panel = await startFakePanel();
    browser = await launchBrowser({ sim });
    const tenantId = (await api.tenant()).id;
    const users = await api.users();
    const page = await browser.context.newPage();
    await page.goto(panel.origin);
    const user = (upn) => {
      const u = users.find((x) => x.userPrincipalName === upn);
      if (!u) throw new Error(`the simulator has no user ${upn}`);
      return u;
    };
    return { sim, api, panel, browser, page, tenantId, users, user, close };
  } catch (e) {
    await close();
    throw e;
  }
}
