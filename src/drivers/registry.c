/*
 * registry.c - the drivers compiled into sbems (driver.h).  A driver is
 * found by the name a point's binding gives ("modbus").
 */
#include <string.h>

#include "drivers/bacnet/bacnet.h"
#include "drivers/driver.h"
#include "drivers/modbus/modbus.h"
#include "drivers/mqtt/mqtt.h"
#include "drivers/rest/rest.h"
#include "drivers/rest/weather.h"

const struct sb_driver_ops *const sb_drivers[] = {
    &sb_driver_bacnet,
    &sb_driver_modbus,
    &sb_driver_mqtt,
    &sb_driver_rest,
    &sb_driver_weather,
    NULL
};

const struct sb_driver_ops *sb_driver_find(const char *name)
{
    for (size_t i = 0; name && sb_drivers[i]; i++)
        if (strcmp(sb_drivers[i]->name, name) == 0)
            return sb_drivers[i];
    return NULL;
}
