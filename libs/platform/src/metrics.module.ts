import { Controller, Get, Header, Module } from '@nestjs/common';
import { enableDefaultMetrics, METRICS_CONTENT_TYPE, renderMetrics } from '@weft/telemetry';

/** Prometheus scrape endpoint: Weft's metrics (see @weft/telemetry) plus prom-client's process metrics. */
@Controller('metrics')
class MetricsController {
  @Get()
  @Header('Content-Type', METRICS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  scrape(): Promise<string> {
    return renderMetrics();
  }
}

/** `GET /metrics`. `bootService` mounts it on every service; importing it again is harmless. */
@Module({ controllers: [MetricsController] })
export class MetricsModule {
  constructor() {
    enableDefaultMetrics();
  }
}
