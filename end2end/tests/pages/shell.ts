import { expect, type Page } from '@playwright/test';

/** The frame every page shares: header navigation and the footer's status line. */
export class Shell {
  constructor(readonly page: Page) {}

  async open(path = '/') {
    const response = await this.page.goto(path);
    await this.waitForHydration();
    return response;
  }

  /**
   * The app sets data-hydrated on <body> once the page is live: the checkout form (the one island) once it has
   * hydrated, a page without an island as soon as the wasm has started (see src/ui/hydrated.rs).
   */
  async waitForHydration() {
    await expect(this.page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  }

  nav() {
    return this.page.getByRole('navigation', { name: 'Main' });
  }

  heading() {
    return this.page.getByRole('heading', { level: 1 });
  }

  status() {
    return this.page.getByTestId('service-status');
  }
}
