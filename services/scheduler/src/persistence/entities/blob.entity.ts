import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A large step output stored once (issue 12 item 4): its exact JSON text, keyed by the sha256 of its UTF-8 bytes.
 * Runs hold `{ $weftBlob: id, size }` instead of the value; written by SqlBlobStore (raw SQL).
 */
@Entity({ name: 'blobs' })
// The blob sweep walks old blobs on a (created_at, id) cursor (migration BlobSweep).
@Index('idx_blobs_created_at', ['createdAt', 'id'])
export class BlobEntity {
  /** sha256 of `bytes`, hex. */
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_blobs' })
  id!: string;

  /** The namespace of the run whose step first stored these bytes. */
  @Column({ type: 'text' })
  namespace!: string;

  /** Bytes of JSON text. */
  @Column({ type: 'bigint' })
  size!: string;

  /** The JSON text, exactly as the writer serialised it (UTF-8 when read back as bytes). */
  @Column({ type: 'text' })
  json!: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;
}
