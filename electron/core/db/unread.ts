import type { DataSource } from 'typeorm';
import type { NotificationSeverity } from '../../../shared/schemas/enums.js';

/** Unread notifications by severity: the bell and the tray count them the same way. */
export async function unreadBySeverity(db: DataSource): Promise<Record<NotificationSeverity, number>> {
  const rows: { severity: NotificationSeverity; count: string }[] = await db.query(
    'SELECT severity, count(*) AS count FROM notifications WHERE read_at IS NULL GROUP BY severity',
  );
  const counts = { critical: 0, warning: 0, info: 0 };
  for (const r of rows) counts[r.severity] = Number(r.count);
  return counts;
}
