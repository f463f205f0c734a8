import Foundation

/// The sample datafile the demo serves: a small v4 project with two A/B tests, a feature test,
/// two flags with rollouts, four attributes and two events. Compiled in, so `eventspool demo`
/// needs no file beside the binary.
enum SampleDatafile {
    /// The rule that delivers `dark_mode` to Chrome users, with its audience.
    private static let chromeOnlyDelivery = [
        #""key": "dark_mode_chrome_delivery","#,
        #""layerId": "10412100001","#,
        #""status": "Running","#,
        #""audienceIds": ["11155243215"],"#,
        #""audienceConditions": ["or", "11155243215"],"#,
    ].joined(separator: "\n          ")

    /// Revision 242, published mid-demo: `dark_mode` is delivered to everyone (its delivery
    /// rule's audience removed).
    static let revision242 = json
        .replacingOccurrences(of: #""revision": "241""#, with: #""revision": "242""#)
        .replacingOccurrences(of: chromeOnlyDelivery, with: chromeOnlyDelivery
            .replacingOccurrences(of: #"["11155243215"]"#, with: "[]")
            .replacingOccurrences(of: #"["or", "11155243215"]"#, with: "[]"))

    static let json = #"""
{
  "version": "4",
  "accountId": "10367498574",
  "projectId": "10431130345",
  "revision": "241",
  "sdkKey": "OracleSdkKey0001",
  "environmentKey": "production",
  "anonymizeIP": true,
  "botFiltering": true,
  "sendFlagDecisions": true,
  "attributes": [
    {"id": "10401066117", "key": "browser"},
    {"id": "10401066118", "key": "is_logged_in"},
    {"id": "10401066119", "key": "age"},
    {"id": "10401066120", "key": "ltv"}
  ],
  "audiences": [
    {
      "id": "11155243214",
      "name": "Logged-in users",
      "conditions": "[\"and\", [\"or\", [\"or\", {\"name\": \"is_logged_in\", \"type\": \"custom_attribute\", \"match\": \"exact\", \"value\": true}]]]"
    },
    {
      "id": "11155243215",
      "name": "Chrome users",
      "conditions": "[\"and\", [\"or\", [\"or\", {\"name\": \"browser\", \"type\": \"custom_attribute\", \"match\": \"exact\", \"value\": \"chrome\"}]]]"
    }
  ],
  "typedAudiences": [],
  "events": [
    {"id": "10428540015", "key": "purchase", "experimentIds": ["10420810910", "10420810920", "10420810930"]},
    {"id": "10428540016", "key": "signup", "experimentIds": []}
  ],
  "experiments": [
    {
      "id": "10420810910",
      "key": "checkout_button_test",
      "layerId": "10420273888",
      "status": "Running",
      "audienceIds": [],
      "audienceConditions": [],
      "forcedVariations": {},
      "variations": [
        {"id": "10418551353", "key": "control", "variables": []},
        {"id": "10418551354", "key": "blue_button", "variables": []}
      ],
      "trafficAllocation": [
        {"entityId": "10418551353", "endOfRange": 5000},
        {"entityId": "10418551354", "endOfRange": 10000}
      ]
    },
    {
      "id": "10420810920",
      "key": "pricing_page_test",
      "layerId": "10420273889",
      "status": "Running",
      "audienceIds": ["11155243215"],
      "audienceConditions": ["or", "11155243215"],
      "forcedVariations": {"forced_user": "discount"},
      "variations": [
        {"id": "10418551363", "key": "control", "variables": []},
        {"id": "10418551364", "key": "discount", "variables": []}
      ],
      "trafficAllocation": [
        {"entityId": "10418551363", "endOfRange": 5000},
        {"entityId": "10418551364", "endOfRange": 10000}
      ]
    },
    {
      "id": "10420810930",
      "key": "new_nav_test",
      "layerId": "10420273890",
      "status": "Running",
      "audienceIds": ["11155243214"],
      "audienceConditions": ["or", "11155243214"],
      "forcedVariations": {},
      "variations": [
        {"id": "10418551373", "key": "off", "featureEnabled": false, "variables": []},
        {"id": "10418551374", "key": "on", "featureEnabled": true,
         "variables": [{"id": "10412200001", "value": "blue"}]}
      ],
      "trafficAllocation": [
        {"entityId": "10418551374", "endOfRange": 10000}
      ]
    }
  ],
  "featureFlags": [
    {
      "id": "10411931000",
      "key": "new_nav",
      "experimentIds": ["10420810930"],
      "rolloutId": "10412100000",
      "variables": [
        {"id": "10412200001", "key": "nav_color", "type": "string", "defaultValue": "grey"}
      ]
    },
    {
      "id": "10411931001",
      "key": "dark_mode",
      "experimentIds": [],
      "rolloutId": "10412100001",
      "variables": []
    }
  ],
  "rollouts": [
    {
      "id": "10412100000",
      "experiments": [
        {
          "id": "10412300000",
          "key": "default-rollout-10412100000",
          "layerId": "10412100000",
          "status": "Running",
          "audienceIds": [],
          "audienceConditions": [],
          "forcedVariations": {},
          "variations": [
            {"id": "10412400000", "key": "off", "featureEnabled": false, "variables": []}
          ],
          "trafficAllocation": [{"entityId": "10412400000", "endOfRange": 10000}]
        }
      ]
    },
    {
      "id": "10412100001",
      "experiments": [
        {
          "id": "10412300010",
          "key": "dark_mode_chrome_delivery",
          "layerId": "10412100001",
          "status": "Running",
          "audienceIds": ["11155243215"],
          "audienceConditions": ["or", "11155243215"],
          "forcedVariations": {},
          "variations": [
            {"id": "10412400010", "key": "on", "featureEnabled": true, "variables": []}
          ],
          "trafficAllocation": [{"entityId": "10412400010", "endOfRange": 10000}]
        },
        {
          "id": "10412300011",
          "key": "default-rollout-10412100001",
          "layerId": "10412100001",
          "status": "Running",
          "audienceIds": [],
          "audienceConditions": [],
          "forcedVariations": {},
          "variations": [
            {"id": "10412400011", "key": "off", "featureEnabled": false, "variables": []}
          ],
          "trafficAllocation": [{"entityId": "10412400011", "endOfRange": 10000}]
        }
      ]
    }
  ],
  "groups": [],
  "integrations": []
}
"""#
}
