import type { Child } from 'hono/jsx';
import { raw } from 'hono/html';

/**
 * The shell of every public page: no script at all, one stylesheet, readable on a phone. The
 * doctype keeps browsers out of quirks mode; JSX cannot write one, so it is prepended raw.
 */
export const Layout = ({ title, children }: { title: string; children: Child }) => (
  <>
    {raw('<!doctype html>')}
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>{title}</title>
        <link rel="stylesheet" href="/assets/pages.css" />
      </head>
      <body>
        <main>{children}</main>
      </body>
    </html>
  </>
);

export const Notice = ({ title, children }: { title: string; children: Child }) => (
  <Layout title={title}>
    <h1>{title}</h1>
    {children}
  </Layout>
);

/**
 * A user-provided value (a name, a campaign, a commitment) in a page: in a `<bdi>`, so a
 * right-to-left name or one carrying a bidi override (U+202E) cannot reorder the text around it.
 */
export const Isolated = ({ children }: { children: Child }) => <bdi>{children}</bdi>;
