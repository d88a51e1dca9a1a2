import { useState } from 'react';
import { TextArea } from './fields.js';
import { Button, Modal } from './ui.js';

/**
 * Asks for the recovery key for one run (a restore test, a download) when this app holds no key that opens the
 * backup: the message says which keys do. The key is handed to that one call and forgotten by the page.
 */
export function KeyPrompt({ what, message, onSubmit, onClose }: { what: string; message: string; onSubmit(identity: string): void; onClose(): void }) {
  const [identity, setIdentity] = useState('');
  return (
    <Modal
      title="The recovery key is needed"
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" disabled={!identity.trim()} onClick={() => onSubmit(identity)}>
            {what}
          </Button>
        </>
      }
    >
      <p>{message}</p>
      <TextArea
        id="run-identity"
        label="Recovery key"
        rows={2}
        monospace
        value={identity}
        placeholder="AGE-SECRET-KEY-1…"
        hint="Used for this run only: it is not saved."
        onChange={setIdentity}
      />
    </Modal>
  );
}
