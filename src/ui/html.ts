// htm bound to preact's h once, for every module: tagged templates instead of JSX, so the
// dashboard needs no JSX transform and the bundle stays one small file. And `pure`, preact/compat's
// memo without compat: the table re-renders per status line, its unchanged rows should not.
import htm from 'htm';
import { Component, type ComponentChild, type ComponentType, h } from 'preact';

export const html = htm.bind(h);

/** A component that renders again only when a prop changed (compared with ===). */
export function pure<P extends object>(render: (props: P) => ComponentChild): ComponentType<P> {
  return class Pure extends Component<P> {
    override shouldComponentUpdate(next: Readonly<P>): boolean {
      const before = this.props as Readonly<Record<string, unknown>>;
      const after = next as Readonly<Record<string, unknown>>;
      for (const key in after) if (after[key] !== before[key]) return true;
      for (const key in before) if (!(key in after)) return true;
      return false;
    }

    override render(props: P): ComponentChild {
      return render(props);
    }
  };
}
