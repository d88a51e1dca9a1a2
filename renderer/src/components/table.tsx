import type { ReactNode } from 'react';

/** The table every list is drawn in; a row's buttons go in a last column that has no visible heading. */
export function DataTable({
  label,
  columns,
  actions,
  flat,
  children,
}: {
  label: string;
  columns: string[];
  actions?: boolean;
  /** Inside a card, which already draws the frame. */
  flat?: boolean;
  children: ReactNode;
}) {
  return (
    <div className={flat ? 'table-wrap table-wrap--flat' : 'table-wrap'}>
      <table className="table" aria-label={label}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c}>{c}</th>
            ))}
            {actions && (
              <th className="table__actions-head">
                <span className="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
