import { type DynamicModule, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';

const CLOSERS = Symbol('WEFT_CLOSERS');

@Injectable()
class Closer implements OnApplicationShutdown {
  constructor(@Inject(CLOSERS) private readonly closers: (() => Promise<void>)[]) {}

  /** Runs after every module's beforeApplicationShutdown: consumers have drained, so connections can go. */
  async onApplicationShutdown(): Promise<void> {
    for (const close of this.closers) await close();
  }
}

/** Closes connections (bus, database) last, once a service has stopped using them. */
@Module({})
export class ShutdownModule {
  static closing(...closers: (() => Promise<void>)[]): DynamicModule {
    return { module: ShutdownModule, providers: [{ provide: CLOSERS, useValue: closers }, Closer] };
  }
}
